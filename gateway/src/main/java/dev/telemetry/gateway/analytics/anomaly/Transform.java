package dev.telemetry.gateway.analytics.anomaly;

/**
 * How a series' values are compared. Rates, latencies and costs vary multiplicatively (twice the traffic, twice the
 * noise), so they are judged on a log scale: counts per step on {@code log(1 + x)} (a count's noise at a handful of
 * events is not multiplicative), positive quantities of any unit (seconds, dollars) on {@code log x}; ratios (error
 * ratio) are judged as they are.
 */
public enum Transform {
  COUNT, LOG, LINEAR;

  /** The smallest value {@link #LOG} takes the log of (a zero is this small, not minus infinity). */
  static final double TINY = 1e-9;

  public double apply(double v) {
    return switch (this) {
      case COUNT -> Math.log1p(Math.max(0, v));
      case LOG -> Math.log(Math.max(TINY, v));
      case LINEAR -> v;
    };
  }

  public double invert(double v) {
    return switch (this) {
      case COUNT -> Math.expm1(v);
      case LOG -> Math.exp(v);
      case LINEAR -> v;
    };
  }
}
