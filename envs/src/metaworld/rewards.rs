//! metaworld's `utils/reward_utils.py`: the shaping functions of the v2
//! rewards, with metaworld's operation order, and [`Num`], the typed
//! scalar that reproduces where NumPy 2 computes a reward in float32.

use crate::numpy::{numpy_exp, numpy_log};

/// `np.linalg.norm(a - b)` for two points.
pub fn dist(a: [f64; 3], b: [f64; 3]) -> f64 {
    crate::numpy::numpy_norm(&[a[0] - b[0], a[1] - b[1], a[2] - b[2]])
}

/// The sigmoid of [`tolerance`] outside the bounds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sigmoid {
    /// `1 / ((d·s)² + 1)` with `s = sqrt(1/v − 1)`.
    LongTail,
    /// `exp(−(d·s)² / 2)` with `s = sqrt(−2 ln v)`, NumPy's `exp` and `log`.
    Gaussian,
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
        Sigmoid::Gaussian => {
            let scale = (-2.0 * numpy_log(VALUE_AT_MARGIN)).sqrt();
            numpy_exp(-0.5 * scalar_square(d * scale))
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

/// A scalar with the type Python and NumPy 2 give it, so that arithmetic
/// rounds as metaworld's does: a Python float (or int), a NumPy float64
/// or a NumPy float32. Under NumPy 2's promotion rules (NEP 50) a Python
/// number is "weak": with a float32 it is converted to float32 and the
/// operation runs in float32, so a reward that touches the float32 action
/// (the gripper effort) stays float32 from there on. float32 with float64
/// gives float64.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Num {
    /// A Python float or int.
    Py(f64),
    /// A NumPy float64 scalar.
    F64(f64),
    /// A NumPy float32 scalar.
    F32(f32),
}

impl Num {
    /// The value, widened to f64.
    pub fn get(self) -> f64 {
        match self {
            Num::Py(x) | Num::F64(x) => x,
            Num::F32(x) => x as f64,
        }
    }

    fn binary(self, other: Num, op64: fn(f64, f64) -> f64, op32: fn(f32, f32) -> f32) -> Num {
        use Num::*;
        match (self, other) {
            (Py(a), Py(b)) => Py(op64(a, b)),
            (Py(a) | F64(a), F64(b)) | (F64(a), Py(b)) => F64(op64(a, b)),
            (F64(a), F32(b)) => F64(op64(a, b as f64)),
            (F32(a), F64(b)) => F64(op64(a as f64, b)),
            (Py(a), F32(b)) => F32(op32(a as f32, b)),
            (F32(a), Py(b)) => F32(op32(a, b as f32)),
            (F32(a), F32(b)) => F32(op32(a, b)),
        }
    }
}

macro_rules! num_op {
    ($trait:ident, $method:ident, $op:tt) => {
        impl std::ops::$trait for Num {
            type Output = Num;
            fn $method(self, other: Num) -> Num {
                self.binary(other, |a, b| a $op b, |a, b| a $op b)
            }
        }
    };
}
num_op!(Add, add, +);
num_op!(Sub, sub, -);
num_op!(Mul, mul, *);
num_op!(Div, div, /);

/// [`hamacher_product`] on typed scalars (`a * b / (a + b - a * b)` in the
/// promoted type; the Python int 0 when the denominator is not positive).
pub fn hamacher(a: Num, b: Num) -> Num {
    let denominator = a + b - a * b;
    if denominator.get() > 0.0 {
        a * b / denominator
    } else {
        Num::Py(0.0)
    }
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
    fn python_numbers_are_weak_beside_float32_and_float64_wins() {
        let a = Num::F32(0.3);
        let p = Num::Py(0.7);
        // Python float with float32: float32 arithmetic.
        assert_eq!(a + p, Num::F32(0.3f32 + 0.7f32));
        assert_eq!(p * a, Num::F32(0.7f32 * 0.3f32));
        // float64 with float32: float64.
        assert_eq!(Num::F64(0.7) * a, Num::F64(0.7 * (0.3f32 as f64)));
        assert_eq!((p + Num::Py(0.1)).get(), 0.7 + 0.1);
        assert!(matches!(hamacher(Num::Py(1.0), a), Num::F32(_)));
        assert_eq!(hamacher(Num::Py(0.0), Num::Py(0.0)), Num::Py(0.0));
    }

    #[test]
    fn hamacher_product_of_one_is_the_other_and_of_zero_is_zero() {
        assert_eq!(hamacher_product(1.0, 0.37), 0.37);
        assert_eq!(hamacher_product(0.0, 0.37), 0.0);
        assert_eq!(hamacher_product(0.0, 0.0), 0.0);
    }
}
