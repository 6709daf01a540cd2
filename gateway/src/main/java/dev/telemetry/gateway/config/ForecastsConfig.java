package dev.telemetry.gateway.config;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Forecasts (section {@code forecasts}), computed every {@code interval}: when each persistent queue's disk fills at
 * its growth over the last {@code queueDiskWindow} (alert when sooner than {@code queueDiskAlertWithin}; zero: no
 * alert), and each GenAI cost budget's month-end cost (the gen_ai_metrics connector's projection, summed over the
 * series matching the budget) against its monthly amount (warning from {@code warnAt} of it, critical above it).
 */
public record ForecastsConfig(Duration interval, Duration queueDiskWindow, Duration queueDiskAlertWithin,
                              String costMetric, List<CostBudget> costBudgets) {
  public static final String DEFAULT_COST_METRIC = "gen_ai_client_cost_month_end_projection_usd";

  public ForecastsConfig {
    costBudgets = List.copyOf(costBudgets);
  }

  /** A monthly budget for the cost series whose labels include {@code match} (empty: all of them). */
  public record CostBudget(String name, Map<String, String> match, double monthlyUsd, double warnAt) {
    public CostBudget {
      match = Map.copyOf(match);
    }
  }

  static ForecastsConfig read(ConfigNode n) {
    n.allowOnly("interval", "queue_disk", "cost_metric", "cost_budgets");
    Duration interval = n.duration("interval", Duration.ofSeconds(30), Duration.ofSeconds(1));
    ConfigNode q = n.object("queue_disk");
    q.allowOnly("window", "alert_within");
    Duration window = q.duration("window", Duration.ofMinutes(15), Duration.ofSeconds(10));
    Duration within = q.duration("alert_within", Duration.ofHours(1), Duration.ZERO);
    String metric = n.string("cost_metric", DEFAULT_COST_METRIC);
    List<CostBudget> budgets = new ArrayList<>();
    java.util.Set<String> names = new java.util.HashSet<>();
    for (ConfigNode b : n.objectList("cost_budgets")) {
      b.allowOnly("name", "match", "monthly_usd", "warn_at");
      String name = b.nonBlankString("name");
      if (!b.has("name")) {
        b.error("name", "required: a name for the budget, e.g. \"team-search\"");
      } else if (name != null && !names.add(name)) {
        b.error("name", "\"" + name + "\" is used by another budget: names must be unique");
      }
      if (!b.has("monthly_usd")) {
        b.error("monthly_usd", "required: the budget in US dollars per calendar month (UTC), e.g. 5000");
      }
      double usd = b.number("monthly_usd", 0, 0.01, 1e12);
      double warn = b.number("warn_at", 0.9, 0.01, 1);
      budgets.add(new CostBudget(name, b.stringMap("match"), usd, warn));
    }
    return n.build(null, () -> new ForecastsConfig(interval, window, within, metric, budgets));
  }
}
