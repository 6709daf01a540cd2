package dev.telemetry.gateway.config;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Automated remediations (section {@code remediations}; nothing runs unless it is configured): pre-declared actions,
 * each run when an alert whose labels include its {@code when} starts firing — from this gateway's own evaluators or
 * from Alertmanager's webhook — and reverted when that alert resolves. At most {@code maxPerHour} runs of one action
 * per hour; {@code dryRun} (for all, or per action) audits what would be done without doing it.
 */
public record RemediationsConfig(boolean dryRun, int maxPerHour, List<Action> actions) {
  public RemediationsConfig {
    actions = List.copyOf(actions);
  }

  /**
   * One action. Exactly one of: {@code routingTable} (a pre-approved routing table file to switch to),
   * {@code samplingPolicySet} (route the traces of {@code samplingRules}, or all trace rules when empty, to that
   * tail-sampling processor), {@code quota} (raise a tenant's quota within a cap).
   */
  public record Action(String name, Map<String, String> when, Path routingTable, String samplingPolicySet,
                       List<String> samplingRules, QuotaRaise quota, boolean revert, boolean dryRun, String path) {
    public Action {
      when = Map.copyOf(when);
      samplingRules = List.copyOf(samplingRules);
    }

    public Action(String name, Map<String, String> when, Path routingTable, String samplingPolicySet,
                  List<String> samplingRules, boolean revert, boolean dryRun, String path) {
      this(name, when, routingTable, samplingPolicySet, samplingRules, null, revert, dryRun, path);
    }
  }

  /**
   * Multiply the quota of {@code tenant} (or of the tenant the alert's {@code tenantLabel} names) by {@code factor},
   * never beyond {@code maxItemsPerSecond} / {@code maxBytesPerSecond}.
   */
  public record QuotaRaise(String tenant, String tenantLabel, double factor, long maxItemsPerSecond,
                           long maxBytesPerSecond) {
  }

  static RemediationsConfig read(ConfigNode n) {
    n.allowOnly("dry_run", "max_per_hour", "actions");
    boolean dry = n.bool("dry_run", false);
    int max = (int) n.integer("max_per_hour", 4, 1, 3600);
    List<Action> actions = new ArrayList<>();
    java.util.Set<String> names = new java.util.HashSet<>();
    if (!n.has("actions")) {
      n.error("actions", "required: the remediations to run, e.g. [{\"name\": \"shed-debug-logs\", \"when\": "
          + "{\"alertname\": \"GatewayExporterQueueFilling\"}, \"routing_table\": \"routes-shed-debug.json\"}]");
    }
    for (ConfigNode a : n.objectList("actions")) {
      a.allowOnly("name", "when", "routing_table", "sampling", "tenant_quota", "revert", "dry_run");
      String name = a.nonBlankString("name");
      if (!a.has("name")) {
        a.error("name", "required: a name for the action (it appears in the audit log and metrics)");
      } else if (name != null && !names.add(name)) {
        a.error("name", "\"" + name + "\" is used by another action: names must be unique");
      }
      Map<String, String> when = a.stringMap("when");
      if (when.isEmpty()) {
        a.error("when", "required: the labels of the alerts that run it, e.g. {\"alertname\": \"GatewayAnomaly\", "
            + "\"severity\": \"critical\"}");
      }
      String table = a.has("routing_table") ? a.nonBlankString("routing_table") : null;
      String policySet = null;
      List<String> rules = List.of();
      if (a.has("sampling")) {
        ConfigNode s = a.object("sampling");
        s.allowOnly("policy_set", "rules");
        policySet = s.nonBlankString("policy_set");
        if (!s.has("policy_set")) {
          s.error("policy_set", "required: the tail_sampling processor to route the traces to");
        }
        rules = s.stringList("rules", List.of());
      }
      QuotaRaise quota = a.has("tenant_quota") ? quota(a.object("tenant_quota")) : null;
      int kinds = (table == null ? 0 : 1) + (policySet == null ? 0 : 1) + (a.has("tenant_quota") ? 1 : 0);
      if (kinds != 1 && a.has("name")) {
        a.error(null, "exactly one of routing_table (a pre-approved routing table file), sampling "
            + "({\"policy_set\": ...}) or tenant_quota ({\"tenant\": ..., \"factor\": 2, \"max_items_per_second\": "
            + "...}) is required");
      }
      actions.add(new Action(name, when, table == null ? null : Path.of(table), policySet, rules, quota,
          a.bool("revert", true), a.bool("dry_run", dry), a.path()));
    }
    return n.build(null, () -> new RemediationsConfig(dry, max, actions));
  }

  private static QuotaRaise quota(ConfigNode q) {
    q.allowOnly("tenant", "tenant_label", "factor", "max_items_per_second", "max_bytes_per_second");
    String tenant = q.has("tenant") ? q.nonBlankString("tenant") : null;
    String label = q.has("tenant_label") ? q.nonBlankString("tenant_label") : null;
    if ((tenant == null) == (label == null) && !q.has("tenant") && !q.has("tenant_label")) {
      q.error(null, "one of tenant (a tenant name) or tenant_label (the alert label naming the tenant) is required");
    } else if (q.has("tenant") && q.has("tenant_label")) {
      q.error(null, "tenant and tenant_label exclude each other");
    }
    double factor = q.number("factor", 2, 1.01, 1000);
    long maxItems = q.integer("max_items_per_second", 0, 0, Long.MAX_VALUE / 4);
    long maxBytes = q.bytes("max_bytes_per_second", 0, 0);
    if (!q.has("max_items_per_second") && !q.has("max_bytes_per_second")) {
      q.error(null, "a cap is required: max_items_per_second and/or max_bytes_per_second (the most a remediation "
          + "may raise the quota to)");
    }
    return new QuotaRaise(tenant, label, factor, maxItems, maxBytes);
  }
}
