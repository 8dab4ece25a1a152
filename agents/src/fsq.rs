//! Finite Scalar Quantization (Mentzer et al. 2023, "Finite Scalar
//! Quantization: VQ-VAE Made Simple").
//!
//! A latent of `b` channels is bounded per channel, rounded to one of
//! `levels[j]` values and rescaled to [-1, 1]; rounding passes gradients
//! straight through. The implicit codebook holds every combination of levels
//! (`Π levels` codes); code `i` has level `(i / basis_j) mod levels[j]` in
//! channel `j` with `basis = cumprod([1, levels[..b-1]])`. Bounding, index
//! order and the `[-1, 1]` scaling follow the `FSQ` module of
//! `vector_quantize_pytorch` that DCWM uses (`utils/layers.py`).

use tch::{Device, Kind, Tensor};

/// An FSQ quantizer with fixed levels.
#[derive(Debug)]
pub struct Fsq {
    levels: Vec<i64>,
    levels_t: Tensor,
    half_l: Tensor,
    offset: Tensor,
    shift: Tensor,
    half_width: Tensor,
    basis: Tensor,
    codebook: Tensor,
}

/// Straight-through estimator (Bengio et al. 2013): the value of `hard`,
/// the gradient of `soft`.
pub fn straight_through(hard: &Tensor, soft: &Tensor) -> Tensor {
    soft + (hard - soft).detach()
}

/// `x` rounded in the forward pass, identity in the backward pass.
pub fn round_ste(x: &Tensor) -> Tensor {
    straight_through(&x.round(), x)
}

impl Fsq {
    /// A quantizer with `levels` per channel (each ≥ 2), tensors on `device`.
    pub fn new(levels: &[i64], device: Device) -> Self {
        assert!(
            !levels.is_empty() && levels.iter().all(|&l| l >= 2),
            "FSQ levels must be >= 2"
        );
        let f = |v: Vec<f64>| {
            Tensor::from_slice(&v)
                .to_kind(Kind::Float)
                .to_device(device)
        };
        let eps = 1e-3;
        let half_l: Vec<f64> = levels
            .iter()
            .map(|&l| (l - 1) as f64 * (1.0 + eps) / 2.0)
            .collect();
        let offset: Vec<f64> = levels
            .iter()
            .map(|&l| if l % 2 == 0 { 0.5 } else { 0.0 })
            .collect();
        let shift: Vec<f64> = offset
            .iter()
            .zip(&half_l)
            .map(|(o, h)| (o / h).atanh())
            .collect();
        let half_width: Vec<f64> = levels.iter().map(|&l| (l / 2) as f64).collect();
        let mut basis = vec![1i64; levels.len()];
        for j in 1..levels.len() {
            basis[j] = basis[j - 1] * levels[j - 1];
        }
        let mut fsq = Fsq {
            levels: levels.to_vec(),
            levels_t: Tensor::from_slice(levels).to_device(device),
            half_l: f(half_l),
            offset: f(offset),
            shift: f(shift),
            half_width: f(half_width),
            basis: Tensor::from_slice(&basis).to_device(device),
            codebook: Tensor::zeros([1], (Kind::Float, device)),
        };
        let all = Tensor::arange(fsq.codebook_size(), (Kind::Int64, device));
        fsq.codebook = fsq.indices_to_codes(&all);
        fsq
    }

    /// Levels per channel.
    pub fn levels(&self) -> &[i64] {
        &self.levels
    }

    /// Channels `b` per code.
    pub fn channels(&self) -> i64 {
        self.levels.len() as i64
    }

    /// Number of codes, `Π levels`.
    pub fn codebook_size(&self) -> i64 {
        self.levels.iter().product()
    }

    /// The implicit codebook, `[codebook_size, channels]`, row `i` = code `i`.
    pub fn codebook(&self) -> &Tensor {
        &self.codebook
    }

    /// Bounds each channel to `levels[j]` representable values (before
    /// rounding): `tanh(z + shift) · half_l − offset`.
    pub fn bound(&self, z: &Tensor) -> Tensor {
        (z + &self.shift).tanh() * &self.half_l - &self.offset
    }

    /// Quantizes `z` (`[..., channels]`) to codes on the grid, values in
    /// [-1, 1], with straight-through gradients.
    pub fn quantize(&self, z: &Tensor) -> Tensor {
        round_ste(&self.bound(z)) / &self.half_width
    }

    /// Indices (`[...]`, int64) of codes `[..., channels]`.
    pub fn codes_to_indices(&self, codes: &Tensor) -> Tensor {
        let level = (codes * &self.half_width + &self.half_width)
            .round()
            .to_kind(Kind::Int64);
        (level * &self.basis).sum_dim_intlist(-1, false, Kind::Int64)
    }

    /// Codes `[..., channels]` of indices `[...]` (int64).
    pub fn indices_to_codes(&self, indices: &Tensor) -> Tensor {
        let level = indices
            .unsqueeze(-1)
            .floor_divide(&self.basis)
            .remainder_tensor(&self.levels_t);
        (level.to_kind(Kind::Float) - &self.half_width) / &self.half_width
    }

    /// The label of each code as a number in [-1, 1] (`index / (C − 1)`
    /// rescaled), computed linearly from the code so gradients pass through.
    pub fn codes_to_label(&self, codes: &Tensor) -> Tensor {
        let level = codes * &self.half_width + &self.half_width;
        let index =
            (level * self.basis.to_kind(Kind::Float)).sum_dim_intlist(-1, true, Kind::Float);
        index * (2.0 / (self.codebook_size() - 1) as f64) - 1.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn distinct(t: &Tensor) -> Vec<f32> {
        let mut v: Vec<f32> = Vec::try_from(t.contiguous().view([-1])).unwrap();
        v.sort_by(f32::total_cmp);
        v.dedup();
        v
    }

    #[test]
    fn every_index_round_trips_through_its_code() {
        for levels in [
            vec![5i64, 3],
            vec![8],
            vec![8, 4],
            vec![8, 8],
            vec![7, 5, 5, 5],
        ] {
            let fsq = Fsq::new(&levels, Device::Cpu);
            let n = fsq.codebook_size();
            let idx = Tensor::arange(n, (Kind::Int64, Device::Cpu));
            let codes = fsq.indices_to_codes(&idx);
            assert_eq!(codes.size(), vec![n, levels.len() as i64]);
            let back = fsq.codes_to_indices(&codes);
            assert!(back.equal(&idx), "levels {levels:?}");
            // Quantizing a code gives the code back (codes are fixed points).
            let atanh_input = {
                // Invert the bound for the exact grid values: find z with
                // bound(z) = code · half_width.
                let target = &codes * &fsq.half_width;
                ((target + &fsq.offset) / &fsq.half_l).atanh() - &fsq.shift
            };
            let q = fsq.quantize(&atanh_input);
            let d = (q - &codes).abs().max().double_value(&[]);
            assert!(d < 1e-6, "levels {levels:?}: {d}");
            // All codes distinct.
            let mut uniq: Vec<i64> = Vec::try_from(fsq.codes_to_indices(fsq.codebook())).unwrap();
            uniq.sort();
            uniq.dedup();
            assert_eq!(uniq.len() as i64, n);
        }
    }

    #[test]
    fn quantized_values_lie_on_the_grid_and_use_every_level() {
        let fsq = Fsq::new(&[5, 3], Device::Cpu);
        let z = Tensor::linspace(-6.0, 6.0, 2001, (Kind::Float, Device::Cpu))
            .unsqueeze(-1)
            .expand([2001, 2], false);
        let q = fsq.quantize(&z);
        let c0 = distinct(&q.select(1, 0));
        let c1 = distinct(&q.select(1, 1));
        assert_eq!(c0, vec![-1.0, -0.5, 0.0, 0.5, 1.0]);
        assert_eq!(c1, vec![-1.0, 0.0, 1.0]);
        // Even levels: 8 values (−4..3)/4.
        let fsq8 = Fsq::new(&[8], Device::Cpu);
        let q8 = fsq8.quantize(&z.select(1, 0).unsqueeze(-1));
        let v = distinct(&q8.view([-1]));
        let want: Vec<f32> = (-4..4).map(|i| i as f32 / 4.0).collect();
        assert_eq!(v, want);
    }

    #[test]
    fn gradients_pass_straight_through_the_rounding() {
        let fsq = Fsq::new(&[5, 3], Device::Cpu);
        let z = Tensor::from_slice(&[0.3f32, -0.7, 1.2, 0.05])
            .view([2, 2])
            .set_requires_grad(true);
        let q = fsq.quantize(&z);
        q.sum(Kind::Float).backward();
        let g = z.grad();
        // d/dz of bound(z)/half_width, i.e. the gradient without rounding.
        let zd = z.detach().set_requires_grad(true);
        (fsq.bound(&zd) / &fsq.half_width)
            .sum(Kind::Float)
            .backward();
        let d = (g - zd.grad()).abs().max().double_value(&[]);
        assert!(d < 1e-7, "{d}");
        assert!(zd.grad().abs().min().double_value(&[]) > 0.0);
    }

    #[test]
    fn labels_span_minus_one_to_one_in_index_order() {
        let fsq = Fsq::new(&[5, 3], Device::Cpu);
        let l: Vec<f32> = Vec::try_from(fsq.codes_to_label(fsq.codebook()).view([-1])).unwrap();
        for (i, v) in l.iter().enumerate() {
            assert!((v - (i as f32 / 7.0 - 1.0)).abs() < 1e-6, "{i}: {v}");
        }
    }
}
