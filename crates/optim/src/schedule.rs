//! Checkpoint schedules: the times at which a run reports its state.

/// Where to place checkpoints in `[0, t_end]`. Time 0 is always included.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Schedule {
    /// `count` checkpoints equally spaced in `(0, t_end]`.
    Linear {
        /// End time.
        t_end: f64,
        /// Number of checkpoints after t = 0.
        count: usize,
    },
    /// `count` checkpoints log-spaced from `t_min` to `t_end`.
    Log {
        /// First positive checkpoint.
        t_min: f64,
        /// End time.
        t_end: f64,
        /// Number of checkpoints after t = 0.
        count: usize,
    },
}

impl Schedule {
    /// End time of the schedule.
    pub fn t_end(&self) -> f64 {
        match *self {
            Schedule::Linear { t_end, .. } | Schedule::Log { t_end, .. } => t_end,
        }
    }

    /// Check the parameters; the error names the field.
    pub fn validate(&self) -> Result<(), crate::DynamicsError> {
        let bad = |field, message: String| Err(crate::DynamicsError::Invalid { field, message });
        let t_end = self.t_end();
        if !(t_end.is_finite() && t_end > 0.0) {
            return bad(
                "checkpoints.t_end",
                format!("must be finite and > 0, got {t_end}"),
            );
        }
        match *self {
            Schedule::Linear { count, .. } | Schedule::Log { count, .. } if count == 0 => {
                bad("checkpoints.count", "must be at least 1".into())
            }
            Schedule::Log { t_min, t_end, .. }
                if !(t_min.is_finite() && t_min > 0.0 && t_min < t_end) =>
            {
                bad(
                    "checkpoints.t_min",
                    format!("must be finite with 0 < t_min < t_end, got {t_min}"),
                )
            }
            _ => Ok(()),
        }
    }

    /// Step indices of a discrete optimiser with step size η nearest to the
    /// checkpoint times (`k = round(t/η)`), duplicates removed.
    pub fn steps(&self, step_size: f64) -> Vec<usize> {
        let mut steps: Vec<usize> = self
            .times()
            .iter()
            .map(|t| (t / step_size).round() as usize)
            .collect();
        steps.dedup();
        steps
    }

    /// The checkpoint times, starting with 0 and strictly increasing.
    pub fn times(&self) -> Vec<f64> {
        let mut out = vec![0.0];
        match *self {
            Schedule::Linear { t_end, count } => {
                out.extend((1..=count).map(|k| t_end * k as f64 / count as f64));
            }
            Schedule::Log {
                t_min,
                t_end,
                count,
            } => {
                if count == 1 {
                    out.push(t_end);
                } else {
                    let (a, b) = (t_min.ln(), t_end.ln());
                    out.extend(
                        (0..count).map(|k| (a + (b - a) * k as f64 / (count - 1) as f64).exp()),
                    );
                    // Land exactly on t_min and t_end despite exp∘ln round-off.
                    out[1] = t_min;
                    *out.last_mut().expect("count ≥ 1") = t_end;
                }
            }
        }
        out
    }
}
