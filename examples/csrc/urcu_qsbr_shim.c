/*
 * liburcu's QSBR flavour for the `compare` program's read-side scenarios: register a thread,
 * read in a loop with a quiescent state every QS_INTERVAL reads, unregister.
 *
 * Read only: the payload is a static object that is published once and unpublished at the end,
 * so nothing is ever freed here. The memb shim (urcu_shim.c) covers updates and grace periods.
 * Both flavours live in one process: liburcu prefixes every symbol with its flavour.
 */
#define _LGPL_SOURCE
#include <urcu/urcu-qsbr.h>

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

/* Reads between two quiescent states: the same interval as the Rust QSBR peer. */
#define QS_INTERVAL 1024

struct qsbr_payload {
	uint64_t value;
	uint64_t check;
};

static struct qsbr_payload payload = { 1, ~(uint64_t)1 };
/* A cache line of its own, as in the memb shim. */
static struct qsbr_payload *shared_qsbr __attribute__((aligned(128)));

static void require_registered(const char *what)
{
	if (!URCU_TLS(urcu_qsbr_reader).registered) {
		fprintf(stderr, "urcu_qsbr_shim: %s called from a thread that is not registered\n", what);
		abort();
	}
}

void qsbr_shim_register_thread(void)
{
	if (URCU_TLS(urcu_qsbr_reader).registered) {
		fprintf(stderr, "urcu_qsbr_shim: thread registered twice\n");
		abort();
	}
	urcu_qsbr_register_thread();
}

void qsbr_shim_unregister_thread(void)
{
	require_registered("qsbr_shim_unregister_thread");
	urcu_qsbr_unregister_thread();
}

void qsbr_shim_publish(void)
{
	rcu_assign_pointer(shared_qsbr, &payload);
}

/* Unpublishes the payload and waits until no reader can still see it. */
void qsbr_shim_unpublish(void)
{
	rcu_assign_pointer(shared_qsbr, NULL);
	urcu_qsbr_synchronize_rcu();
}

/* `iterations` reads of the published value, a quiescent state after every QS_INTERVAL of them
 * and after the last. */
uint64_t qsbr_shim_read_n(uint64_t iterations)
{
	uint64_t sum = 0;

	require_registered("qsbr_shim_read_n");
	while (iterations) {
		uint64_t chunk = iterations < QS_INTERVAL ? iterations : QS_INTERVAL;

		for (uint64_t i = 0; i < chunk; i++)
			sum += rcu_dereference(shared_qsbr)->value;
		urcu_qsbr_quiescent_state();
		iterations -= chunk;
	}
	return sum;
}
