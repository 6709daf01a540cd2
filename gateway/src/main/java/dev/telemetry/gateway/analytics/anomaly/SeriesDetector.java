package dev.telemetry.gateway.analytics.anomaly;

import io.vertx.core.json.JsonObject;

/**
 * One series' anomaly state: asks its {@link Baseline} what to expect, scores each step's value against it
 * ((value − expected) / scale, in the {@link Transform}ed space), and applies the {@link Detection} rules (volume,
 * hysteresis, cool-down, maintenance). Steps must come in order. Not thread-safe: one owner.
 */
public final class SeriesDetector {
  /** The outcome of one step. {@code change}: the anomaly opened, closed, or changed severity at this step. */
  public record Verdict(long step, double value, double expected, double score, double confidence, boolean open,
                        boolean critical, Change change) {
  }

  public enum Change { NONE, OPENED, CLOSED, ESCALATED }

  /** The smallest scale a score divides by (a flat series would otherwise make any wiggle infinite). */
  static final double MIN_SCALE_LOG = 0.02;
  static final double MIN_SCALE_LINEAR = 0.001;

  static double minScale(Transform t) {
    return t == Transform.LINEAR ? MIN_SCALE_LINEAR : MIN_SCALE_LOG;
  }

  private final Baseline baseline;
  private final Transform transform;
  private final Detection rules;
  private boolean open;
  private boolean critical;
  private long openedAt;
  private int sustained;
  private long recentHigh;
  private int drifting;
  private int below;
  private long cooldownUntil = Long.MIN_VALUE;
  private double peak;

  public SeriesDetector(Baseline baseline, Transform transform, Detection rules) {
    this.baseline = baseline;
    this.transform = transform;
    this.rules = rules;
  }

  /**
   * Judges {@code value} at {@code step}. {@code volume}: the events behind it (NaN: the value itself is a count —
   * the larger of it and its expectation is used, so a drop to zero is judged); {@code suppressed}: in a maintenance
   * window (nothing opens; an open anomaly closes).
   */
  public Verdict step(long step, double value, double volume, boolean suppressed) {
    double x = transform.apply(value);
    Baseline.Expectation e = Double.isNaN(value) ? null : baseline.expect(step);
    double score = Double.NaN;
    double confidence = 0;
    double expected = Double.NaN;
    double drift = Double.NaN;
    if (e != null) {
      expected = transform.invert(e.expected());
      double v = Double.isNaN(volume) ? Math.max(value, expected) : volume;
      if (v >= rules.minVolume() && e.support() >= rules.minSupport()) {
        double floor = minScale(transform);
        if (transform == Transform.LINEAR && !Double.isNaN(volume) && volume > 0) {
          // A ratio of few events is noisy by nature: never judge it finer than its binomial spread.
          double p = Math.min(0.5, Math.max(e.expected(), 1 / volume));
          floor = Math.max(floor, Math.sqrt(p * (1 - p) / volume));
        }
        score = (x - e.expected()) / Math.max(e.scale(), floor);
        drift = e.drift();
        confidence = e.support() * Math.min(1, Math.abs(score) / rules.criticalThreshold());
      }
    }
    double signed = Double.isNaN(score) ? Double.NaN : rules.direction().signed(score);
    double signedDrift = Double.isNaN(drift) ? Double.NaN : rules.direction().signed(drift);
    boolean anomalous = signed >= rules.sustainedThreshold();
    // The last sustainedSteps + 1 steps as bits: a lasting change may dip under the line for one of them.
    recentHigh = ((recentHigh << 1) | (anomalous ? 1 : 0)) & ((1L << Math.min(62, rules.sustainedSteps() + 1)) - 1);
    sustained = anomalous ? Long.bitCount(recentHigh) : 0;
    drifting = signedDrift >= rules.driftThreshold() ? drifting + 1 : 0;
    Change change = Change.NONE;
    if (suppressed) {
      if (open) {
        close(step);
        change = Change.CLOSED;
      }
    } else if (!open) {
      if (step >= cooldownUntil && (signed >= rules.threshold() || sustained >= rules.sustainedSteps()
          || drifting >= rules.driftSteps())) {
        open = true;
        openedAt = step;
        below = 0;
        peak = Double.isNaN(signed) ? 0 : signed;
        critical = peak >= rules.criticalThreshold();
        change = Change.OPENED;
      }
    } else {
      boolean calm = !(signed >= rules.closeThreshold()) && !(signedDrift >= rules.driftCloseThreshold());
      below = calm ? below + 1 : 0;
      if (below >= rules.closeAfter()) {
        close(step);
        change = Change.CLOSED;
      } else if (signed > peak) {
        peak = signed;
        if (!critical && peak >= rules.criticalThreshold()) {
          critical = true;
          change = Change.ESCALATED;
        }
      }
    }
    baseline.observe(step, x, anomalous);
    return new Verdict(step, value, expected, score, confidence, open, critical, change);
  }

  private void close(long step) {
    open = false;
    critical = false;
    below = 0;
    cooldownUntil = step + 1 + rules.cooldownSteps();
  }

  public boolean open() {
    return open;
  }

  public long openedAt() {
    return openedAt;
  }

  public Baseline baseline() {
    return baseline;
  }

  public JsonObject toJson() {
    return new JsonObject().put("baseline", baseline.toJson()).put("open", open).put("critical", critical)
        .put("opened_at", openedAt).put("cooldown_until", cooldownUntil).put("peak", peak);
  }

  /** Restores the alert state saved by {@link #toJson} (the baseline is restored by the caller). */
  public void restoreState(JsonObject json) {
    open = json.getBoolean("open", false);
    critical = json.getBoolean("critical", false);
    openedAt = json.getLong("opened_at", 0L);
    cooldownUntil = json.getLong("cooldown_until", Long.MIN_VALUE);
    peak = json.getDouble("peak", 0.0);
  }
}
