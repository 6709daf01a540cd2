package dev.telemetry.gateway.analytics.anomaly;

/**
 * When a series' score makes an anomaly. It opens on one step scoring {@code threshold} or more in the watched
 * {@code direction} (a spike), on {@code sustainedSteps} consecutive steps scoring {@code sustainedThreshold} or more
 * (a level shift: smaller, but lasting), or on {@code driftSteps} consecutive steps whose drift (the recent level
 * against the seasonal norm, for methods that measure it) is {@code driftThreshold} or more. It closes after
 * {@code closeAfter} consecutive steps below {@code closeThreshold} with the drift back under its share of it
 * (hysteresis: no flapping around one threshold), and none opens again for {@code cooldownSteps} after one closed.
 * Steps with fewer than {@code minVolume} events (requests behind a ratio or a percentile; for a rate, the value or
 * its expectation) or less than {@code minSupport} history are not judged. A score of {@code criticalThreshold} or
 * more makes it critical, else it is a warning.
 */
public record Detection(double threshold, double sustainedThreshold, int sustainedSteps, double driftThreshold,
                        int driftSteps, double closeThreshold, int closeAfter, int cooldownSteps, double minVolume,
                        double minSupport, double criticalThreshold, Direction direction) {
  /** Which deviations count. */
  public enum Direction {
    BOTH, UP, DOWN;

    double signed(double score) {
      return switch (this) {
        case BOTH -> Math.abs(score);
        case UP -> score;
        case DOWN -> -score;
      };
    }
  }

  /** The defaults, chosen on the committed benchmark (docs/anomaly.md). */
  public static final Detection DEFAULTS = new Detection(5.5, 2.5, 3, 4, 12, 2.5, 3, 6, 0, 0.5, 12, Direction.BOTH);

  public Detection {
    if (!(threshold > 0) || !(sustainedThreshold > 0) || sustainedThreshold > threshold || sustainedSteps < 1
        || !(driftThreshold > 0) || driftSteps < 1 || !(closeThreshold > 0) || closeThreshold > sustainedThreshold
        || closeAfter < 1 || cooldownSteps < 0 || minVolume < 0 || minSupport < 0 || minSupport > 1
        || criticalThreshold < threshold || direction == null) {
      throw new IllegalArgumentException("inconsistent anomaly detection settings: " + this);
    }
  }

  public Detection withDirection(Direction d) {
    return new Detection(threshold, sustainedThreshold, sustainedSteps, driftThreshold, driftSteps, closeThreshold,
        closeAfter, cooldownSteps, minVolume, minSupport, criticalThreshold, d);
  }

  public Detection withMinVolume(double v) {
    return new Detection(threshold, sustainedThreshold, sustainedSteps, driftThreshold, driftSteps, closeThreshold,
        closeAfter, cooldownSteps, v, minSupport, criticalThreshold, direction);
  }

  /** The drift below which an open anomaly may close (the same share of its threshold as for the score). */
  double driftCloseThreshold() {
    return driftThreshold * closeThreshold / threshold;
  }
}
