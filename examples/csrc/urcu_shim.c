/*
 * The liburcu (memb flavour) side of the `compare` program: a few functions that the Rust code
 * calls through FFI, built with the `cc` crate when the `liburcu` feature is on.
 *
 * _LGPL_SOURCE inlines liburcu's read side (rcu_read_lock/unlock, rcu_dereference), which is how
 * liburcu is meant to be used for speed. The read-side loops run here, in C, so that liburcu's
 * cost per critical section is measured without an FFI call around each one, exactly as the Rust
 * loops measure ours. Every thread that calls anything but shim_publish and shim_unpublish must
 * be registered (shim_register_thread), as liburcu requires of readers and call_rcu callers.
 *
 * One object is published at a time (`shared`); every update replaces it with a fresh malloc'd
 * payload and queues the old one with call_rcu, whose callback frees it and counts the free.
 */
#define _LGPL_SOURCE
#include <urcu/urcu-memb.h>

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

/* The same layout as the Rust `Payload`: two words of data and a two-word callback head. */
struct payload {
	uint64_t value;
	uint64_t check;
	struct rcu_head head;
};

_Static_assert(sizeof(struct payload) == 32, "the Rust Payload is 32 bytes");

/* Each on a cache line of its own: readers load `shared` while the updater and the call_rcu thread
 * count. */
static struct payload *shared __attribute__((aligned(128)));
static uint64_t freed __attribute__((aligned(128)));
static uint64_t allocated __attribute__((aligned(128)));

static struct payload *payload_new(uint64_t value)
{
	struct payload *p = malloc(sizeof(*p));

	if (!p)
		abort();
	p->value = value;
	p->check = ~value;
	__atomic_fetch_add(&allocated, 1, __ATOMIC_RELAXED);
	return p;
}

static void payload_free(struct payload *p)
{
	free(p);
	/* Release: pairs with the Acquire load in shim_live, which then sees the allocation too. */
	__atomic_fetch_add(&freed, 1, __ATOMIC_RELEASE);
}

static void payload_free_rcu(struct rcu_head *head)
{
	payload_free(caa_container_of(head, struct payload, head));
}

/* liburcu does not check registration in release builds; reading unregistered would be unsafe. */
static void require_registered(const char *what)
{
	if (!URCU_TLS(urcu_memb_reader).registered) {
		fprintf(stderr, "urcu_shim: %s called from a thread that is not registered\n", what);
		abort();
	}
}

void shim_register_thread(void)
{
	if (URCU_TLS(urcu_memb_reader).registered) {
		fprintf(stderr, "urcu_shim: thread registered twice\n");
		abort();
	}
	urcu_memb_register_thread();
}

void shim_unregister_thread(void)
{
	require_registered("shim_unregister_thread");
	urcu_memb_unregister_thread();
}

/* Publishes the first payload (before any reader or updater uses the shim). */
void shim_publish(uint64_t value)
{
	rcu_assign_pointer(shared, payload_new(value));
}

/*
 * Unpublishes the payload and frees it after a grace period, then waits for every callback.
 * rcu_barrier queues callbacks, which needs a registered thread: register for the call if needed.
 */
void shim_unpublish(void)
{
	struct payload *old = shared;
	int was_registered = URCU_TLS(urcu_memb_reader).registered;

	if (!was_registered)
		urcu_memb_register_thread();
	rcu_assign_pointer(shared, NULL);
	urcu_memb_synchronize_rcu();
	if (old)
		payload_free(old);
	urcu_memb_barrier();
	if (!was_registered)
		urcu_memb_unregister_thread();
}

/* One read-side critical section that reads the value of the published payload. */
static inline uint64_t read_once(void)
{
	uint64_t value;

	urcu_memb_read_lock();
	value = rcu_dereference(shared)->value;
	urcu_memb_read_unlock();
	return value;
}

/* Runs `iterations` read-side critical sections; returns the sum of what they read. */
uint64_t shim_read_n(uint64_t iterations)
{
	uint64_t sum = 0;

	require_registered("shim_read_n");
	for (uint64_t i = 0; i < iterations; i++)
		sum += read_once();
	return sum;
}

/* Publishes a new payload and queues the old one with call_rcu (the exchange makes concurrent
 * updaters safe, as liburcu's own examples do). */
static inline void update(uint64_t value)
{
	struct payload *old = rcu_xchg_pointer(&shared, payload_new(value));

	if (old)
		urcu_memb_call_rcu(&old->head, payload_free_rcu);
}

void shim_update(uint64_t value)
{
	require_registered("shim_update");
	update(value);
}

/* `n` updates in a row, flat out (the replace + asynchronous free scenario). */
void shim_update_n(uint64_t first_value, uint64_t n)
{
	require_registered("shim_update_n");
	for (uint64_t i = 0; i < n; i++)
		update(first_value + i);
}

/* Whether liburcu's read side relies on membarrier (1) or issues full fences (0). */
int shim_uses_membarrier(void)
{
	return urcu_memb_has_sys_membarrier;
}

void shim_synchronize(void)
{
	urcu_memb_synchronize_rcu();
}

void shim_barrier(void)
{
	require_registered("shim_barrier");
	urcu_memb_barrier();
}

/* Payloads allocated minus payloads freed: the published one plus those waiting for call_rcu. */
uint64_t shim_live(void)
{
	/* Frees first: every counted free was of a counted allocation, so the difference is >= 0. */
	uint64_t gone = __atomic_load_n(&freed, __ATOMIC_ACQUIRE);

	return __atomic_load_n(&allocated, __ATOMIC_RELAXED) - gone;
}
