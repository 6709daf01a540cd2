package dev.telemetry.gateway.analytics.anomaly;

import io.vertx.core.json.JsonObject;

/**
 * What one series is expected to do at its next step, learnt from its past: a model of the series' normal level
 * and seasonality (daily, and weekday versus weekend). Values are in the series' transformed space (see
 * {@link Transform}); a step is a fixed interval numbered from the epoch. Not thread-safe: one owner.
 */
public interface Baseline {
  /** The expected value at {@code step} and how far from it normal values stray; {@code null} while still learning. */
  Expectation expect(long step);

  /**
   * Learns the value observed at {@code step} (NaN: no data). {@code anomalous}: the value was judged an anomaly —
   * a baseline learns it with less weight, so an incident does not become the new normal within minutes.
   */
  void observe(long step, double value, boolean anomalous);

  /** Bounded state for the state file. */
  JsonObject toJson();

  /** The method's name in config and docs. */
  String method();

  /**
   * The expectation: {@code expected} value, {@code scale} (a robust standard deviation: normal values are within
   * a few scales), {@code support} in [0, 1] (how much history stands behind it); {@code drift}: how far the series'
   * recent level sits from its seasonal norm, in scales of that norm (NaN when the method cannot tell — it then
   * follows slow changes without a word).
   */
  record Expectation(double expected, double scale, double support, double drift) {
  }

  /** Builds a baseline by method name for a series judged in {@code transform}'s space. */
  static Baseline create(String method, long stepMillis, Transform transform) {
    return switch (method) {
      case SeasonalMedianBaseline.METHOD -> new SeasonalMedianBaseline(stepMillis, SeriesDetector.minScale(transform));
      case HoltWintersBaseline.METHOD -> new HoltWintersBaseline(stepMillis);
      default -> throw new IllegalArgumentException("unknown anomaly method " + method);
    };
  }

  /** Restores a baseline from {@link #toJson}; a fresh one when the state does not fit. */
  static Baseline restore(String method, long stepMillis, Transform transform, JsonObject json) {
    Baseline b = create(method, stepMillis, transform);
    try {
      if (b instanceof SeasonalMedianBaseline s) {
        s.restore(json);
      } else if (b instanceof HoltWintersBaseline h) {
        h.restore(json);
      }
      return b;
    } catch (RuntimeException e) {
      return create(method, stepMillis, transform);
    }
  }
}
