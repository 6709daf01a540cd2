package dev.telemetry.gateway.analytics.anomaly;

import io.vertx.core.json.JsonObject;
import java.nio.ByteBuffer;
import java.util.Arrays;
import java.util.Base64;

/**
 * The robust seasonal baseline ({@value #METHOD}): the expected value at a step is the median of the values at the
 * same time of day (± one step) on the last {@value #DAYS} days of the same kind (weekdays for a weekday, weekend
 * days for a weekend day, so the weekly pattern is kept without weeks of history), plus the median of the last
 * {@value #RECENT} steps' deviations from that seasonal median (so a new level is accepted within about an hour
 * instead of alerting for days). Its scale is the larger of the seasonal samples' spread and the recent deviations'
 * spread, each a median absolute deviation ×1.4826. Its drift is that level in scales of the seasonal spread: a
 * change slow enough for the level to follow still shows there, until it is the norm on most reference days. Medians make it robust by construction: a spike or an incident
 * of a few hours moves neither the seasonal median nor, for long, the level. State: one float per step for
 * {@value #DAYS} days (4,032 floats at a 5-minute step).
 */
public final class SeasonalMedianBaseline implements Baseline {
  public static final String METHOD = "seasonal_median";
  static final int DAYS = 14;
  static final int RECENT = 24;

  private final long stepMillis;
  private final int stepsPerDay;
  private final float[] ring;
  private long last = Long.MIN_VALUE;
  private final double[] recent = new double[RECENT];
  private int recentCount;
  private long recentAt;
  /** The seasonal median of the step last expected (its deviation goes into {@code recent} when observed). */
  private long seasonalStep = Long.MIN_VALUE;
  private double seasonal = Double.NaN;
  private final double[] refs = new double[DAYS * 3];
  private final double[] work = new double[DAYS * 3];

  /** The smallest spread a drift is measured in (a flat series would make any change infinite). */
  private final double minScale;

  public SeasonalMedianBaseline(long stepMillis, double minScale) {
    this.minScale = minScale;
    this.stepMillis = stepMillis;
    this.stepsPerDay = (int) (86_400_000L / stepMillis);
    this.ring = new float[DAYS * stepsPerDay];
    Arrays.fill(ring, Float.NaN);
    Arrays.fill(recent, Double.NaN);
  }

  @Override
  public String method() {
    return METHOD;
  }

  private double at(long step) {
    if (step > last || last - step >= ring.length) {
      return Double.NaN;
    }
    return ring[(int) Math.floorMod(step, ring.length)];
  }

  static boolean weekend(long step, long stepMillis) {
    long day = Math.floorDiv(step * stepMillis, 86_400_000L);
    int dow = (int) Math.floorMod(day + 3, 7); // 1970-01-01 was a Thursday; 0 = Monday
    return dow >= 5;
  }

  @Override
  public Expectation expect(long step) {
    boolean kind = weekend(step, stepMillis);
    int n = collect(step, kind, true);
    int sameKindDays = n / 3;
    if (sameKindDays < 2) {
      n = collect(step, kind, false);
    }
    if (n < 3) {
      seasonalStep = step;
      seasonal = Double.NaN;
      return null;
    }
    double median = median(refs, n);
    for (int i = 0; i < n; i++) {
      work[i] = Math.abs(refs[i] - median);
    }
    double spread = 1.4826 * median(work, n);
    seasonalStep = step;
    seasonal = median;
    double level = 0;
    double noise = 0;
    int r = recentValues(step);
    if (r >= 3) {
      level = median(work, r);
      for (int i = 0; i < r; i++) {
        work[i] = Math.abs(work[i] - level);
      }
      noise = 1.4826 * median(work, r);
    }
    double support = Math.min(1.0, n / (3.0 * 4));
    double drift = r >= RECENT / 2 ? level / Math.max(spread, minScale) : Double.NaN;
    return new Expectation(median + level, Math.max(spread, noise), support, drift);
  }

  /** The recent deviations (of the last {@value #RECENT} steps before {@code step}) into {@code work}; their count. */
  private int recentValues(long step) {
    int r = 0;
    for (int i = 0; i < RECENT; i++) {
      long s = recentAt - i;
      if (s < step && step - s <= RECENT && !Double.isNaN(recent[(int) Math.floorMod(s, RECENT)])) {
        work[r++] = recent[(int) Math.floorMod(s, RECENT)];
      }
    }
    return r;
  }

  private int collect(long step, boolean kind, boolean sameKindOnly) {
    int n = 0;
    for (int d = 1; d <= DAYS; d++) {
      long lag = step - (long) d * stepsPerDay;
      if (sameKindOnly && weekend(lag, stepMillis) != kind) {
        continue;
      }
      for (int k = -1; k <= 1; k++) {
        double v = at(lag + k);
        if (!Double.isNaN(v)) {
          refs[n++] = v;
        }
      }
    }
    return n;
  }

  @Override
  public void observe(long step, double value, boolean anomalous) {
    if (last != Long.MIN_VALUE && step <= last) {
      return; // steps arrive in order; a repeat is ignored
    }
    if (last != Long.MIN_VALUE) {
      for (long s = last + 1; s < step && step - s < ring.length; s++) {
        ring[(int) Math.floorMod(s, ring.length)] = Float.NaN;
      }
    }
    ring[(int) Math.floorMod(step, ring.length)] = (float) value;
    last = step;
    if (seasonalStep != step) {
      expect(step);
    }
    if (recentAt != 0 || recentCount > 0) {
      for (long s = recentAt + 1; s < step && step - s < RECENT; s++) {
        recent[(int) Math.floorMod(s, RECENT)] = Double.NaN;
      }
    }
    // Anomalous values count in the level too: a lasting change becomes the new normal once it is the median.
    recent[(int) Math.floorMod(step, RECENT)] = Double.isNaN(seasonal) || Double.isNaN(value) ? Double.NaN
        : value - seasonal;
    recentAt = step;
    recentCount++;
  }

  static double median(double[] a, int n) {
    Arrays.sort(a, 0, n);
    return (n & 1) == 1 ? a[n / 2] : (a[n / 2 - 1] + a[n / 2]) / 2;
  }

  @Override
  public JsonObject toJson() {
    ByteBuffer b = ByteBuffer.allocate(ring.length * 4);
    b.asFloatBuffer().put(ring);
    io.vertx.core.json.JsonArray r = new io.vertx.core.json.JsonArray();
    for (double d : recent) {
      r.add(Double.isNaN(d) ? null : d);
    }
    return new JsonObject().put("method", METHOD).put("step_ms", stepMillis).put("last", last)
        .put("ring", Base64.getEncoder().encodeToString(b.array())).put("recent", r).put("recent_at", recentAt)
        .put("recent_count", recentCount);
  }

  void restore(JsonObject json) {
    if (json.getLong("step_ms") != stepMillis || !METHOD.equals(json.getString("method"))) {
      throw new IllegalArgumentException("state of another step or method");
    }
    byte[] bytes = Base64.getDecoder().decode(json.getString("ring"));
    if (bytes.length != ring.length * 4) {
      throw new IllegalArgumentException("ring size differs");
    }
    ByteBuffer.wrap(bytes).asFloatBuffer().get(ring);
    last = json.getLong("last");
    io.vertx.core.json.JsonArray r = json.getJsonArray("recent");
    for (int i = 0; i < RECENT && i < r.size(); i++) {
      recent[i] = r.getValue(i) == null ? Double.NaN : r.getDouble(i);
    }
    recentAt = json.getLong("recent_at");
    recentCount = json.getInteger("recent_count");
  }
}
