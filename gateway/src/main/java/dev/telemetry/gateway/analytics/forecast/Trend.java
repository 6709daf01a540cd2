package dev.telemetry.gateway.analytics.forecast;

import java.util.ArrayDeque;
import java.util.Deque;

/**
 * A straight line through the samples of the last {@code window} (least squares): its slope per second, and when it
 * reaches a limit. Bounded by the window (older samples are dropped). Not thread-safe: one owner.
 */
public final class Trend {
  private final long windowMillis;
  private final Deque<double[]> samples = new ArrayDeque<>();

  public Trend(long windowMillis) {
    this.windowMillis = windowMillis;
  }

  public void add(long epochMillis, double value) {
    if (!Double.isFinite(value)) {
      return;
    }
    samples.addLast(new double[] {epochMillis, value});
    while (!samples.isEmpty() && epochMillis - samples.peekFirst()[0] > windowMillis) {
      samples.removeFirst();
    }
  }

  /** How much of the window the samples span (a line through two close samples says little). */
  public long spanMillis() {
    return samples.size() < 2 ? 0 : (long) (samples.peekLast()[0] - samples.peekFirst()[0]);
  }

  /** Units per second; NaN with fewer than two samples. */
  public double slopePerSecond() {
    int n = samples.size();
    if (n < 2) {
      return Double.NaN;
    }
    double t0 = samples.peekFirst()[0];
    double st = 0;
    double sv = 0;
    for (double[] s : samples) {
      st += (s[0] - t0) / 1000;
      sv += s[1];
    }
    double mt = st / n;
    double mv = sv / n;
    double num = 0;
    double den = 0;
    for (double[] s : samples) {
      double dt = (s[0] - t0) / 1000 - mt;
      num += dt * (s[1] - mv);
      den += dt * dt;
    }
    return den == 0 ? Double.NaN : num / den;
  }

  /** Seconds until the value grows by {@code headroom} at the current slope; +Inf when it is not growing. */
  public double secondsUntil(double headroom) {
    if (headroom <= 0) {
      return 0;
    }
    double slope = slopePerSecond();
    return slope > 0 ? headroom / slope : Double.POSITIVE_INFINITY;
  }
}
