package dev.telemetry.gateway.analytics.anomaly;

import io.vertx.core.json.JsonObject;
import java.nio.ByteBuffer;
import java.util.Arrays;
import java.util.Base64;

/**
 * The exponential-smoothing baseline ({@value #METHOD}): additive Holt-Winters with a weekly season (level, trend
 * and one seasonal term per step of the week), learnt from the first week, then updated each step. Its scale is a
 * smoothed mean absolute residual ×1.25. Robust updates: a value further than {@value #CLIP} scales from the
 * forecast (or judged anomalous) is clipped to that distance before the model learns it, so one spike barely moves
 * it and a lasting change is absorbed over hours. State: one float per step of the week (2,016 at 5 minutes).
 */
public final class HoltWintersBaseline implements Baseline {
  public static final String METHOD = "holt_winters";
  static final double ALPHA = 0.05;
  static final double BETA = 0.0005;
  static final double GAMMA = 0.3;
  static final double SCALE_ALPHA = 0.01;
  static final double CLIP = 4;

  private final long stepMillis;
  private final float[] season;
  private long first = Long.MIN_VALUE;
  private long last = Long.MIN_VALUE;
  private boolean trained;
  private double level;
  private double trend;
  private double meanAbs = Double.NaN;

  public HoltWintersBaseline(long stepMillis) {
    this.stepMillis = stepMillis;
    this.season = new float[(int) (7 * 86_400_000L / stepMillis)];
    Arrays.fill(season, Float.NaN);
  }

  @Override
  public String method() {
    return METHOD;
  }

  private int index(long step) {
    return (int) Math.floorMod(step, season.length);
  }

  @Override
  public Expectation expect(long step) {
    if (!trained || Double.isNaN(meanAbs)) {
      return null;
    }
    long ahead = Math.max(1, step - last);
    double s = season[index(step)];
    double expected = level + trend * ahead + (Double.isNaN(s) ? 0 : s);
    double weeks = (last - first) / (double) season.length;
    return new Expectation(expected, 1.25 * meanAbs, Math.min(1.0, weeks / 2), Double.NaN);
  }

  @Override
  public void observe(long step, double value, boolean anomalous) {
    if (last != Long.MIN_VALUE && step <= last) {
      return;
    }
    if (first == Long.MIN_VALUE) {
      first = step;
    }
    if (!trained) {
      season[index(step)] = (float) value;
      last = step;
      if (step - first + 1 >= season.length) {
        train();
      }
      return;
    }
    long ahead = Math.max(1, step - last);
    last = step;
    double predictedLevel = level + trend * ahead;
    if (Double.isNaN(value)) {
      level = predictedLevel;
      return;
    }
    int i = index(step);
    double s = Double.isNaN(season[i]) ? 0 : season[i];
    double residual = value - (predictedLevel + s);
    double scale = Double.isNaN(meanAbs) ? Math.abs(residual) : 1.25 * meanAbs;
    double x = value;
    if (scale > 0 && (anomalous || Math.abs(residual) > CLIP * scale)) {
      x = predictedLevel + s + Math.signum(residual) * Math.min(Math.abs(residual), CLIP * scale);
    }
    double newLevel = ALPHA * (x - s) + (1 - ALPHA) * predictedLevel;
    trend = BETA * (newLevel - level) + (1 - BETA) * trend;
    level = newLevel;
    season[i] = (float) (GAMMA * (x - newLevel) + (1 - GAMMA) * s);
    double clipped = Math.min(Math.abs(residual), CLIP * Math.max(scale, 1e-12));
    meanAbs = Double.isNaN(meanAbs) ? Math.abs(residual) : (1 - SCALE_ALPHA) * meanAbs + SCALE_ALPHA * clipped;
  }

  /** The first week: level = its mean, season = each step's difference from it, no trend. */
  private void train() {
    double sum = 0;
    int n = 0;
    for (float f : season) {
      if (!Float.isNaN(f)) {
        sum += f;
        n++;
      }
    }
    if (n < season.length / 2) {
      // Too little data to know the week: start the week again.
      Arrays.fill(season, Float.NaN);
      first = Long.MIN_VALUE;
      return;
    }
    level = sum / n;
    trend = 0;
    double abs = 0;
    for (int i = 0; i < season.length; i++) {
      season[i] = Float.isNaN(season[i]) ? 0 : (float) (season[i] - level);
    }
    // Start the scale from the step-to-step variation of the week (a stand-in for the noise around the season).
    int m = 0;
    for (int i = 1; i < season.length; i++) {
      abs += Math.abs(season[i] - season[i - 1]);
      m++;
    }
    meanAbs = m == 0 ? 0 : abs / m / Math.sqrt(2);
    trained = true;
  }

  @Override
  public JsonObject toJson() {
    ByteBuffer b = ByteBuffer.allocate(season.length * 4);
    b.asFloatBuffer().put(season);
    return new JsonObject().put("method", METHOD).put("step_ms", stepMillis).put("first", first).put("last", last)
        .put("trained", trained).put("level", level).put("trend", trend)
        .put("mean_abs", Double.isNaN(meanAbs) ? null : meanAbs)
        .put("season", Base64.getEncoder().encodeToString(b.array()));
  }

  void restore(JsonObject json) {
    if (json.getLong("step_ms") != stepMillis || !METHOD.equals(json.getString("method"))) {
      throw new IllegalArgumentException("state of another step or method");
    }
    byte[] bytes = Base64.getDecoder().decode(json.getString("season"));
    if (bytes.length != season.length * 4) {
      throw new IllegalArgumentException("season size differs");
    }
    ByteBuffer.wrap(bytes).asFloatBuffer().get(season);
    first = json.getLong("first");
    last = json.getLong("last");
    trained = json.getBoolean("trained");
    level = json.getDouble("level");
    trend = json.getDouble("trend");
    meanAbs = json.getValue("mean_abs") == null ? Double.NaN : json.getDouble("mean_abs");
  }
}
