package dev.telemetry.gateway.analytics.slo;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

/**
 * One SLO's bad and total events in time buckets: per minute for the last three days (burn-rate windows are read at
 * minute resolution, as Prometheus reads its samples) and per hour for the SLO window (the error budget). Bounded:
 * two fixed rings. A window of {@code w} minutes at minute {@code t} is the buckets (t − w, t]: the events between
 * the samples at t − w and t, exactly what {@code rate(x[w])} at t sees. Not thread-safe: one owner.
 */
final class SloLedger {
  static final int MINUTES = 3 * 24 * 60;
  private final int hours;
  private final long[] minuteStamp = new long[MINUTES];
  private final double[] minuteBad = new double[MINUTES];
  private final double[] minuteTotal = new double[MINUTES];
  private final long[] hourStamp;
  private final double[] hourBad;
  private final double[] hourTotal;

  SloLedger(int windowHours) {
    this.hours = windowHours + 1;
    hourStamp = new long[hours];
    hourBad = new double[hours];
    hourTotal = new double[hours];
    java.util.Arrays.fill(minuteStamp, -1);
    java.util.Arrays.fill(hourStamp, -1);
  }

  /** Adds events in epoch minute {@code minute}. */
  void add(long minute, double bad, double total) {
    int m = (int) Math.floorMod(minute, MINUTES);
    if (minuteStamp[m] != minute) {
      if (minuteStamp[m] > minute) {
        return; // older than three days: only the hourly ring could take it, and it would be older still
      }
      minuteStamp[m] = minute;
      minuteBad[m] = 0;
      minuteTotal[m] = 0;
    }
    minuteBad[m] += bad;
    minuteTotal[m] += total;
    long hour = Math.floorDiv(minute, 60);
    int h = (int) Math.floorMod(hour, hours);
    if (hourStamp[h] != hour) {
      if (hourStamp[h] > hour) {
        return;
      }
      hourStamp[h] = hour;
      hourBad[h] = 0;
      hourTotal[h] = 0;
    }
    hourBad[h] += bad;
    hourTotal[h] += total;
  }

  /** {bad, total} over the {@code windowMinutes} minutes ending with minute {@code now} (at most three days). */
  double[] minutes(long now, long windowMinutes) {
    double bad = 0;
    double total = 0;
    for (long t = now - Math.min(windowMinutes, MINUTES) + 1; t <= now; t++) {
      int m = (int) Math.floorMod(t, MINUTES);
      if (minuteStamp[m] == t) {
        bad += minuteBad[m];
        total += minuteTotal[m];
      }
    }
    return new double[] {bad, total};
  }

  /** {bad, total} over the {@code windowHours} hours ending with the hour of minute {@code now}. */
  double[] hours(long now, long windowHours) {
    long current = Math.floorDiv(now, 60);
    double bad = 0;
    double total = 0;
    for (long t = current - Math.min(windowHours, hours) + 1; t <= current; t++) {
      int h = (int) Math.floorMod(t, hours);
      if (hourStamp[h] == t) {
        bad += hourBad[h];
        total += hourTotal[h];
      }
    }
    return new double[] {bad, total};
  }

  /** The non-empty buckets, for the state file. */
  JsonObject toJson() {
    JsonArray m = new JsonArray();
    for (int i = 0; i < MINUTES; i++) {
      if (minuteStamp[i] >= 0) {
        m.add(new JsonArray().add(minuteStamp[i]).add(minuteBad[i]).add(minuteTotal[i]));
      }
    }
    JsonArray h = new JsonArray();
    for (int i = 0; i < hours; i++) {
      if (hourStamp[i] >= 0) {
        h.add(new JsonArray().add(hourStamp[i]).add(hourBad[i]).add(hourTotal[i]));
      }
    }
    return new JsonObject().put("minutes", m).put("hours", h);
  }

  /** Restores {@link #toJson}'s buckets (the rings' sizes may differ: what does not fit is dropped). */
  void restore(JsonObject json) {
    for (Object o : json.getJsonArray("minutes", new JsonArray())) {
      JsonArray b = (JsonArray) o;
      long minute = b.getLong(0);
      int m = (int) Math.floorMod(minute, MINUTES);
      if (minuteStamp[m] < minute) {
        minuteStamp[m] = minute;
        minuteBad[m] = b.getDouble(1);
        minuteTotal[m] = b.getDouble(2);
      }
    }
    for (Object o : json.getJsonArray("hours", new JsonArray())) {
      JsonArray b = (JsonArray) o;
      long hour = b.getLong(0);
      int h = (int) Math.floorMod(hour, hours);
      if (hourStamp[h] < hour) {
        hourStamp[h] = hour;
        hourBad[h] = b.getDouble(1);
        hourTotal[h] = b.getDouble(2);
      }
    }
  }
}
