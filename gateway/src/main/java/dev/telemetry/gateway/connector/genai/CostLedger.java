package dev.telemetry.gateway.connector.genai;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.time.Instant;
import java.time.YearMonth;
import java.time.ZoneOffset;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.BiConsumer;

/**
 * Month-to-date cost per allocation key (service, tenant, configured attributes) and its month-end projection: the
 * cost so far plus the recent hourly rate (the last week's hours, or the hours since the key was first seen this
 * month if fewer) over the hours left in the month (UTC). Bounded: at most {@code maxKeys} keys (then new keys are
 * counted under the overflow key). Survives restarts through {@link #toJson}/{@link #fromJson}. Not thread-safe:
 * the owner serializes calls.
 */
final class CostLedger {
  static final int HOURS = 168;
  /** The key of costs beyond {@code maxKeys}. */
  static final List<String> OVERFLOW = List.of("\u0000overflow");

  private final int maxKeys;
  private final Map<List<String>, Account> accounts = new LinkedHashMap<>();

  CostLedger(int maxKeys) {
    this.maxKeys = maxKeys;
  }

  /** One key's month and the hourly cost of the last week (a ring indexed by epoch hour). */
  static final class Account {
    YearMonth month;
    double monthToDate;
    long firstHourThisMonth;
    final double[] hourly = new double[HOURS];
    long lastHour = Long.MIN_VALUE;

    void add(double usd, long epochHour, YearMonth now) {
      roll(epochHour, now);
      monthToDate += usd;
      hourly[(int) Math.floorMod(epochHour, HOURS)] += usd;
    }

    /** Clears the hours skipped since the last update, and the month total at a new month. */
    void roll(long epochHour, YearMonth now) {
      if (!now.equals(month)) {
        month = now;
        monthToDate = 0;
        firstHourThisMonth = epochHour;
      }
      if (lastHour == Long.MIN_VALUE) {
        lastHour = epochHour;
        return;
      }
      for (long h = lastHour + 1; h <= epochHour && h <= lastHour + HOURS; h++) {
        hourly[(int) Math.floorMod(h, HOURS)] = 0;
      }
      lastHour = Math.max(lastHour, epochHour);
    }

    /**
     * Month-to-date plus the recent hourly rate (the window's cost over its hours, the current one counted whole)
     * times the hours left in the month.
     */
    double projection(long epochMillis, YearMonth now) {
      long epochHour = epochMillis / 3_600_000L;
      roll(epochHour, now);
      long window = Math.max(1, Math.min(HOURS, epochHour - firstHourThisMonth + 1));
      double recent = 0;
      for (long h = epochHour - window + 1; h <= epochHour; h++) {
        recent += hourly[(int) Math.floorMod(h, HOURS)];
      }
      long monthEnd = now.plusMonths(1).atDay(1).atStartOfDay().toEpochSecond(ZoneOffset.UTC) * 1000;
      double hoursLeft = Math.max(0, monthEnd - epochMillis) / 3_600_000.0;
      return monthToDate + recent / window * hoursLeft;
    }
  }

  /** Adds {@code usd} to {@code key} at {@code epochMillis}. */
  void add(List<String> key, double usd, long epochMillis) {
    account(key).add(usd, epochMillis / 3_600_000L, month(epochMillis));
  }

  private Account account(List<String> key) {
    Account a = accounts.get(key);
    if (a == null) {
      if (accounts.size() >= maxKeys && !key.equals(OVERFLOW)) {
        return account(OVERFLOW);
      }
      a = new Account();
      accounts.put(java.util.Collections.unmodifiableList(new java.util.ArrayList<>(key)), a);
    }
    return a;
  }

  private static YearMonth month(long epochMillis) {
    return YearMonth.from(Instant.ofEpochMilli(epochMillis).atZone(ZoneOffset.UTC));
  }

  /** Visits each key with its month-to-date and projected month-end cost at {@code epochMillis}. */
  void forEach(long epochMillis, Visitor visitor) {
    YearMonth month = month(epochMillis);
    accounts.forEach((key, a) -> {
      double projected = a.projection(epochMillis, month);
      visitor.visit(key, a.monthToDate, projected);
    });
  }

  @FunctionalInterface
  interface Visitor {
    void visit(List<String> key, double monthToDate, double projectedMonthEnd);
  }

  int size() {
    return accounts.size();
  }

  JsonObject toJson() {
    JsonArray list = new JsonArray();
    accounts.forEach((key, a) -> {
      JsonArray hours = new JsonArray();
      for (double h : a.hourly) {
        hours.add(h);
      }
      list.add(new JsonObject().put("key", new JsonArray(new java.util.ArrayList<Object>(key)))
          .put("month", a.month.toString()).put("month_to_date", a.monthToDate)
          .put("first_hour", a.firstHourThisMonth).put("last_hour", a.lastHour).put("hourly", hours));
    });
    return new JsonObject().put("version", 1).put("accounts", list);
  }

  /** Restores what {@link #toJson} wrote; entries that do not read are skipped and reported. */
  void fromJson(JsonObject json, BiConsumer<Integer, String> skipped) {
    JsonArray list = json.getJsonArray("accounts", new JsonArray());
    for (int i = 0; i < list.size(); i++) {
      try {
        JsonObject o = list.getJsonObject(i);
        List<String> key = new java.util.ArrayList<>();
        o.getJsonArray("key").forEach(v -> key.add(v == null ? null : v.toString()));
        Account a = account(key);
        a.month = YearMonth.parse(o.getString("month"));
        a.monthToDate = o.getDouble("month_to_date");
        a.firstHourThisMonth = o.getLong("first_hour");
        a.lastHour = o.getLong("last_hour");
        JsonArray hours = o.getJsonArray("hourly");
        for (int h = 0; h < HOURS && h < hours.size(); h++) {
          a.hourly[h] = hours.getDouble(h);
        }
      } catch (RuntimeException e) {
        skipped.accept(i, e.toString());
      }
    }
  }
}
