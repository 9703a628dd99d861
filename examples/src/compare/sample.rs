//! Repeated measurements and their median.

/// The results of the repetitions of one measurement.
#[derive(Clone, Debug, Default)]
pub(crate) struct Samples {
    values: Vec<f64>,
}

impl Samples {
    /// Records one repetition.
    pub(crate) fn push(&mut self, value: f64) {
        self.values.push(value);
    }

    /// The median of the repetitions (NaN when there are none).
    pub(crate) fn median(&self) -> f64 {
        self.quantile(0.5)
    }

    /// How widely the repetitions spread: the interquartile range relative to the median.
    pub(crate) fn spread(&self) -> f64 {
        let median = self.median();
        if median == 0.0 { 0.0 } else { (self.quantile(0.75) - self.quantile(0.25)) / median }
    }

    /// The `q` quantile, interpolating linearly between the sorted repetitions.
    fn quantile(&self, q: f64) -> f64 {
        let mut sorted = self.values.clone();
        sorted.sort_by(f64::total_cmp);
        match sorted.len() {
            0 => f64::NAN,
            1 => sorted[0],
            n => {
                let position = q * (n - 1) as f64;
                let below = position.floor() as usize;
                let above = position.ceil() as usize;
                let weight = position - below as f64;
                sorted[below] * (1.0 - weight) + sorted[above] * weight
            }
        }
    }
}

/// The median of the given values (NaN when empty).
pub(crate) fn median_of(values: impl IntoIterator<Item = f64>) -> f64 {
    let mut samples = Samples::default();
    for value in values {
        samples.push(value);
    }
    samples.median()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn median_and_spread_of_repetitions() {
        let mut samples = Samples::default();
        for value in [5.0, 1.0, 3.0, 2.0, 4.0] {
            samples.push(value);
        }
        assert_eq!(samples.median(), 3.0);
        // Quartiles 2 and 4: (4 - 2) / 3.
        assert!((samples.spread() - 2.0 / 3.0).abs() < 1e-12);
        assert_eq!(median_of([1.0, 2.0]), 1.5);
        assert!(Samples::default().median().is_nan());
    }
}
