package dev.telemetry.gateway.analytics.forecast;

/**
 * When an error budget is gone at the current burn rate: a burn rate of 1 spends the whole budget in exactly the SLO
 * window, so {@code remaining} (the share left) lasts {@code remaining × window / burn}. 0 once it is gone, +Inf
 * while nothing burns. Which burn: the last hour's when that says the budget is gone within {@value #SHORT_HOURS}
 * hours (a fresh incident), else the last day's — the back-test (docs/anomaly.md) found the hour's burn three times
 * closer for short horizons and the day's ten times closer beyond a day (a daily traffic pattern swings the hour's).
 */
public final class Exhaustion {
  static final int SHORT_HOURS = 4;

  private Exhaustion() {
  }

  /** The forecast from the last hour's and the last day's burn rates (NaN: unknown, e.g. no day of data yet). */
  public static double secondsLeft(double remaining, double windowSeconds, double hourBurn, double dayBurn) {
    double hour = secondsLeft(remaining, windowSeconds, Double.isNaN(hourBurn) ? 0 : hourBurn);
    if (hour < SHORT_HOURS * 3600.0 || Double.isNaN(dayBurn)) {
      return hour;
    }
    return secondsLeft(remaining, windowSeconds, dayBurn);
  }

  public static double secondsLeft(double remaining, double windowSeconds, double burnRate) {
    if (remaining <= 0) {
      return 0;
    }
    return burnRate > 0 ? remaining * windowSeconds / burnRate : Double.POSITIVE_INFINITY;
  }
}
