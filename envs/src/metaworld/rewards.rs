//! metaworld's `utils/reward_utils.py`: the shaping functions of the v2
//! rewards, evaluated in float64 with metaworld's operation order.

/// The sigmoid of [`tolerance`] outside the bounds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sigmoid {
    /// `1 / ((d·s)² + 1)` with `s = sqrt(1/v − 1)`.
    LongTail,
}

/// The output of [`tolerance`] at distance `margin` from the bounds.
const VALUE_AT_MARGIN: f64 = 0.1;

/// `tolerance(x, bounds=(lower, upper), margin, sigmoid)`: 1 inside the
/// bounds; outside, 0 when `margin` is 0, else the sigmoid of the distance
/// to the nearest bound divided by `margin`.
pub fn tolerance(x: f64, lower: f64, upper: f64, margin: f64, sigmoid: Sigmoid) -> f64 {
    let in_bounds = lower <= x && x <= upper;
    if in_bounds {
        return 1.0;
    }
    if margin == 0.0 {
        return 0.0;
    }
    let d = (if x < lower { lower - x } else { x - upper }) / margin;
    match sigmoid {
        Sigmoid::LongTail => {
            let scale = (1.0 / VALUE_AT_MARGIN - 1.0).sqrt();
            1.0 / (scalar_square(d * scale) + 1.0)
        }
    }
}

/// `hamacher_product(a, b) = ab / (a + b − ab)`, 0 when the denominator is
/// not positive (both arguments lie in [0, 1]).
pub fn hamacher_product(a: f64, b: f64) -> f64 {
    let denominator = a + b - a * b;
    if denominator > 0.0 {
        a * b / denominator
    } else {
        0.0
    }
}

/// `x ** 2` on a Python float or a NumPy scalar: libm's `pow(x, 2)`, which
/// differs from `x * x` in the last bit for about one input in a thousand
/// (NumPy arrays square exactly; scalars do not). [`tolerance`]'s sigmoid
/// squares a NumPy scalar.
pub fn scalar_square(x: f64) -> f64 {
    // The opaque exponent keeps the call to libm from being folded to x * x.
    x.powf(std::hint::black_box(2.0))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tolerance_is_one_inside_and_a_tenth_at_the_margin() {
        assert_eq!(tolerance(0.03, 0.0, 0.05, 0.2, Sigmoid::LongTail), 1.0);
        let at_margin = tolerance(0.25, 0.0, 0.05, 0.2, Sigmoid::LongTail);
        assert!((at_margin - 0.1).abs() < 1e-12, "{at_margin}");
        assert_eq!(tolerance(0.3, 0.0, 0.05, 0.0, Sigmoid::LongTail), 0.0);
        assert!(tolerance(-0.1, 0.0, 0.05, 0.2, Sigmoid::LongTail) < 1.0);
    }

    #[test]
    fn hamacher_product_of_one_is_the_other_and_of_zero_is_zero() {
        assert_eq!(hamacher_product(1.0, 0.37), 0.37);
        assert_eq!(hamacher_product(0.0, 0.37), 0.0);
        assert_eq!(hamacher_product(0.0, 0.0), 0.0);
    }
}
