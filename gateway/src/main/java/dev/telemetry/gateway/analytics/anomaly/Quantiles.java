package dev.telemetry.gateway.analytics.anomaly;

/** A quantile from explicit histogram buckets, interpolated within its bucket as Prometheus' histogram_quantile does. */
final class Quantiles {
  private Quantiles() {
  }

  /**
   * {@code counts} has one more element than {@code bounds} (the last bucket is above the last bound); the result
   * is within the bucket holding the q-th value, linearly interpolated (the first bucket from 0, the last one
   * answers its lower bound, as histogram_quantile does).
   */
  static double fromBuckets(double[] bounds, double[] counts, double q) {
    double total = 0;
    for (double c : counts) {
      total += c;
    }
    if (total <= 0) {
      return Double.NaN;
    }
    double rank = q * total;
    double seen = 0;
    for (int i = 0; i < counts.length; i++) {
      if (seen + counts[i] >= rank && counts[i] > 0) {
        if (i >= bounds.length) {
          return bounds[bounds.length - 1];
        }
        double lower = i == 0 ? 0 : bounds[i - 1];
        double upper = bounds[i];
        return lower + (upper - lower) * (rank - seen) / counts[i];
      }
      seen += counts[i];
    }
    return bounds[bounds.length - 1];
  }

  /** 0.99 → "99", 0.999 → "999", 0.5 → "50". */
  static String name(double q) {
    String s = java.math.BigDecimal.valueOf(q).stripTrailingZeros().toPlainString().substring(2);
    return s.length() == 1 ? s + "0" : s;
  }
}
