//! Reward shaping, as dm_control's `utils/rewards.py`.

/// dm_control's default `value_at_margin`.
pub const DEFAULT_VALUE_AT_MARGIN: f64 = 0.1;

/// The sigmoid shapes of `rewards.tolerance`; each is 1 at distance 0 and
/// `value_at_1` at distance 1 (one margin away from the bounds).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sigmoid {
    /// `exp(-0.5 (x s)^2)`.
    Gaussian,
    /// `1 / cosh(x s)`.
    Hyperbolic,
    /// `1 / ((x s)^2 + 1)`.
    LongTail,
    /// `1 / (|x| s + 1)`.
    Reciprocal,
    /// `(1 + cos(pi x s)) / 2` inside `|x s| < 1`, else 0.
    Cosine,
    /// `1 - x s` inside `|x s| < 1`, else 0.
    Linear,
    /// `1 - (x s)^2` inside `|x s| < 1`, else 0.
    Quadratic,
    /// `1 - tanh(x s)^2`.
    TanhSquared,
}

/// dm_control's `_sigmoids(x, value_at_1, sigmoid)`.
pub fn sigmoid(x: f64, value_at_1: f64, kind: Sigmoid) -> f64 {
    use std::f64::consts::PI;
    match kind {
        Sigmoid::Gaussian => {
            let scale = (-2.0 * value_at_1.ln()).sqrt();
            (-0.5 * (x * scale).powi(2)).exp()
        }
        Sigmoid::Hyperbolic => {
            let scale = (1.0 / value_at_1).acosh();
            1.0 / (x * scale).cosh()
        }
        Sigmoid::LongTail => {
            let scale = (1.0 / value_at_1 - 1.0).sqrt();
            1.0 / ((x * scale).powi(2) + 1.0)
        }
        Sigmoid::Reciprocal => {
            let scale = 1.0 / value_at_1 - 1.0;
            1.0 / (x.abs() * scale + 1.0)
        }
        Sigmoid::Cosine => {
            let scale = (2.0 * value_at_1 - 1.0).acos() / PI;
            let sx = x * scale;
            if sx.abs() < 1.0 {
                (1.0 + (PI * sx).cos()) / 2.0
            } else {
                0.0
            }
        }
        Sigmoid::Linear => {
            let sx = x * (1.0 - value_at_1);
            if sx.abs() < 1.0 { 1.0 - sx } else { 0.0 }
        }
        Sigmoid::Quadratic => {
            let sx = x * (1.0 - value_at_1).sqrt();
            if sx.abs() < 1.0 { 1.0 - sx * sx } else { 0.0 }
        }
        Sigmoid::TanhSquared => {
            let scale = (1.0 - value_at_1).sqrt().atanh();
            1.0 - (x * scale).tanh().powi(2)
        }
    }
}

/// dm_control's `rewards.tolerance`: 1 when `x` lies in `[lower, upper]`,
/// decaying by `sigmoid` with the distance to the nearest bound measured in
/// `margin`s; with `margin == 0`, 0 outside the bounds.
#[derive(Debug, Clone, Copy)]
pub struct Tolerance {
    /// Inclusive lower bound.
    pub lower: f64,
    /// Inclusive upper bound.
    pub upper: f64,
    /// Distance over which the reward decays to `value_at_margin`.
    pub margin: f64,
    /// Shape of the decay.
    pub sigmoid: Sigmoid,
    /// Value one margin away from the bounds.
    pub value_at_margin: f64,
}

impl Tolerance {
    /// `tolerance(x, bounds=(lower, upper))` with dm_control's defaults
    /// (margin 0, gaussian, value_at_margin 0.1).
    pub const fn bounds(lower: f64, upper: f64) -> Self {
        Tolerance {
            lower,
            upper,
            margin: 0.0,
            sigmoid: Sigmoid::Gaussian,
            value_at_margin: DEFAULT_VALUE_AT_MARGIN,
        }
    }

    /// The same with another margin.
    pub const fn margin(mut self, margin: f64) -> Self {
        self.margin = margin;
        self
    }

    /// The same with another sigmoid.
    pub const fn sigmoid(mut self, sigmoid: Sigmoid) -> Self {
        self.sigmoid = sigmoid;
        self
    }

    /// The same with another value at the margin.
    pub const fn value_at_margin(mut self, v: f64) -> Self {
        self.value_at_margin = v;
        self
    }

    /// Evaluates the tolerance at `x`.
    pub fn eval(&self, x: f64) -> f64 {
        tolerance(
            x,
            self.lower,
            self.upper,
            self.margin,
            self.sigmoid,
            self.value_at_margin,
        )
    }
}

/// dm_control's `rewards.tolerance(x, (lower, upper), margin, sigmoid, value_at_margin)`.
pub fn tolerance(
    x: f64,
    lower: f64,
    upper: f64,
    margin: f64,
    kind: Sigmoid,
    value_at_margin: f64,
) -> f64 {
    debug_assert!(lower <= upper && margin >= 0.0);
    let in_bounds = lower <= x && x <= upper;
    if margin == 0.0 {
        return if in_bounds { 1.0 } else { 0.0 };
    }
    if in_bounds {
        return 1.0;
    }
    let d = if x < lower { lower - x } else { x - upper } / margin;
    sigmoid(d, value_at_margin, kind)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_sigmoid_hits_its_value_at_one_margin() {
        for kind in [
            Sigmoid::Gaussian,
            Sigmoid::Hyperbolic,
            Sigmoid::LongTail,
            Sigmoid::Reciprocal,
            Sigmoid::Cosine,
            Sigmoid::Linear,
            Sigmoid::Quadratic,
            Sigmoid::TanhSquared,
        ] {
            let t = Tolerance::bounds(-1.0, 1.0)
                .margin(2.0)
                .sigmoid(kind)
                .value_at_margin(0.25);
            assert_eq!(t.eval(0.5), 1.0, "{kind:?} inside bounds");
            assert!(
                (t.eval(3.0) - 0.25).abs() < 1e-12,
                "{kind:?} at one margin: {}",
                t.eval(3.0)
            );
            assert!((t.eval(-3.0) - 0.25).abs() < 1e-12, "{kind:?} symmetric");
        }
    }

    #[test]
    fn zero_margin_is_an_indicator() {
        let t = Tolerance::bounds(0.0, 0.1);
        assert_eq!(t.eval(0.05), 1.0);
        assert_eq!(t.eval(0.1000001), 0.0);
    }
}
