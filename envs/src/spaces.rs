//! Observation and action spaces.

/// A box in R^n: per-dimension lower and upper bounds (may be infinite).
#[derive(Debug, Clone, PartialEq)]
pub struct BoxSpace {
    /// Lower bounds.
    pub low: Vec<f64>,
    /// Upper bounds.
    pub high: Vec<f64>,
}

impl BoxSpace {
    /// A box with the given bounds.
    pub fn new(low: Vec<f64>, high: Vec<f64>) -> Self {
        assert_eq!(low.len(), high.len(), "bounds of different lengths");
        BoxSpace { low, high }
    }

    /// The unbounded box of dimension `n`.
    pub fn unbounded(n: usize) -> Self {
        BoxSpace::new(vec![f64::NEG_INFINITY; n], vec![f64::INFINITY; n])
    }

    /// The box [-1, 1]^n.
    pub fn symmetric_unit(n: usize) -> Self {
        BoxSpace::new(vec![-1.0; n], vec![1.0; n])
    }

    /// Dimension.
    pub fn dim(&self) -> usize {
        self.low.len()
    }

    /// Whether `x` has the right length and lies inside the bounds.
    pub fn contains(&self, x: &[f64]) -> bool {
        x.len() == self.dim()
            && x.iter()
                .zip(self.low.iter().zip(&self.high))
                .all(|(v, (lo, hi))| *lo <= *v && *v <= *hi)
    }
}

/// One named group of the flat observation vector (a key of dm_control's
/// observation dict, e.g. `position` or `velocity`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObsGroup {
    /// dm_control's observation key.
    pub name: String,
    /// First index in the flat vector.
    pub offset: usize,
    /// Number of values.
    pub len: usize,
}

/// The ordered named groups that make up a flat observation, in the task's
/// `OrderedDict` order.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ObsLayout {
    /// The groups, in order; offsets are contiguous.
    pub groups: Vec<ObsGroup>,
}

impl ObsLayout {
    /// A layout from `(name, len)` pairs in order.
    pub fn new(groups: &[(&str, usize)]) -> Self {
        let mut offset = 0;
        let groups = groups
            .iter()
            .map(|&(name, len)| {
                let g = ObsGroup {
                    name: name.to_string(),
                    offset,
                    len,
                };
                offset += len;
                g
            })
            .collect();
        ObsLayout { groups }
    }

    /// Total length of the flat vector.
    pub fn dim(&self) -> usize {
        self.groups.iter().map(|g| g.len).sum()
    }

    /// The group called `name`.
    pub fn group(&self, name: &str) -> Option<&ObsGroup> {
        self.groups.iter().find(|g| g.name == name)
    }

    /// Flat indices of the named groups, in the order given (e.g. to feed a
    /// network only proprioceptive groups).
    pub fn indices(&self, names: &[&str]) -> Option<Vec<usize>> {
        let mut out = Vec::new();
        for n in names {
            let g = self.group(n)?;
            out.extend(g.offset..g.offset + g.len);
        }
        Some(out)
    }
}
