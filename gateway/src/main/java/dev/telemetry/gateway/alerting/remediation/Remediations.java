package dev.telemetry.gateway.alerting.remediation;

import dev.telemetry.gateway.alerting.Alert;
import dev.telemetry.gateway.config.RemediationsConfig;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.logging.Logger;

/**
 * Automated runbooks: pre-declared actions run when a matching alert starts firing (this gateway's own alerts, or
 * Alertmanager's webhook) and reverted when the last alert that ran them resolves — by rolling the routing table
 * back to the version in use before, and only if nobody changed it since (a person's change wins; the skip is
 * audited). Rate-limited per action, dry-run on request, every step in the audit log
 * ({@code dev.telemetry.gateway.audit.remediations}) and {@code GET /api/v1/remediations}. Confined to one Vert.x
 * context; routing changes run on a worker thread, in order.
 */
public final class Remediations {
  private static final Logger LOG = Logger.getLogger(Remediations.class.getName());
  public static final Logger AUDIT = Logger.getLogger("dev.telemetry.gateway.audit.remediations");
  static final int HISTORY = 200;

  private final Vertx vertx;
  private final RemediationsConfig config;
  private final RoutingControl routing;
  private final QuotaControl quotas;
  private final MeterRegistry registry;
  private final Map<String, State> states = new LinkedHashMap<>();
  private final Deque<JsonObject> history = new ArrayDeque<>();
  private Context context;

  /** One action's state (for a quota action naming its tenant by an alert label: one per tenant). */
  private static final class State {
    final RemediationsConfig.Action action;
    /** The tenant of a quota action (null for the others). */
    final String tenant;
    long[] quotaBefore;
    long[] quotaSet;
    JsonObject table;
    /** The alerts (by identity) that ran it and still fire. */
    final Set<String> triggers = new LinkedHashSet<>();
    final Deque<Long> runs = new ArrayDeque<>();
    boolean active;
    boolean busy;
    int previousVersion = -1;
    int appliedVersion = -1;
    final double[] activeGauge = new double[1];

    State(RemediationsConfig.Action action, String tenant) {
      this.action = action;
      this.tenant = tenant;
    }

    String key() {
      return tenant == null || action.quota().tenant() != null ? action.name() : action.name() + "/" + tenant;
    }
  }

  public Remediations(Vertx vertx, RemediationsConfig config, RoutingControl routing, MeterRegistry registry) {
    this(vertx, config, routing, null, registry);
  }

  /** {@code quotas}: null when the gateway has no tenant quotas (the config then has no quota actions). */
  public Remediations(Vertx vertx, RemediationsConfig config, RoutingControl routing, QuotaControl quotas,
                      MeterRegistry registry) {
    this.vertx = vertx;
    this.config = config;
    this.routing = routing;
    this.quotas = quotas;
    this.registry = registry;
    for (RemediationsConfig.Action a : config.actions()) {
      if (a.quota() == null || a.quota().tenant() != null) {
        state(new State(a, a.quota() == null ? null : a.quota().tenant()));
      }
    }
  }

  private State state(State s) {
    State known = states.get(s.key());
    if (known != null) {
      return known;
    }
    states.put(s.key(), s);
    Gauge.Builder<double[]> g = Gauge.builder("gateway.remediation.active", s.activeGauge, x -> x[0])
        .tag("action", s.action.name()).description("1 while the action is applied (not yet reverted)");
    if (s.tenant != null) {
      g.tag("tenant", s.tenant);
    }
    g.register(registry);
    return s;
  }

  /**
   * Reads and validates every action's routing table file (the start fails, naming each problem with its JSON path,
   * when one is missing or invalid), then starts on a context of its own.
   */
  public Future<Void> start() {
    context = vertx.getOrCreateContext();
    return vertx.executeBlocking(() -> {
      List<String> problems = new ArrayList<>();
      for (State s : states.values()) {
        RemediationsConfig.Action a = s.action;
        if (a.quota() != null && quotas == null) {
          problems.add(a.path() + ".tenant_quota: the gateway has no tenant quotas (add a quotas section)");
        }
        if (a.routingTable() == null) {
          continue;
        }
        String at = a.path() + ".routing_table";
        try {
          JsonObject table = new JsonObject(Files.readString(a.routingTable(), StandardCharsets.UTF_8));
          routing.validate(table).forEach(p -> problems.add(at + " (" + a.routingTable() + "): " + p));
          s.table = table;
        } catch (java.io.IOException e) {
          problems.add(at + ": cannot read " + a.routingTable() + ": " + e.getMessage());
        } catch (io.vertx.core.json.DecodeException e) {
          problems.add(at + ": " + a.routingTable() + " is not JSON: " + e.getMessage());
        }
      }
      if (!problems.isEmpty()) {
        throw new IllegalStateException("remediations: invalid pre-approved routing table(s):\n  "
            + String.join("\n  ", problems));
      }
      return null;
    }, false).mapEmpty();
  }

  /** An alert changed (own evaluators: from {@code Alerting}); any thread. */
  public void onAlert(Alert alert, String source) {
    onAlert(alert.labels(), alert.firing(), source);
  }

  /** An alert with these labels fires or resolved; any thread. */
  public void onAlert(Map<String, String> labels, boolean firing, String source) {
    Context c = context;
    if (c == null) {
      return;
    }
    Map<String, String> copy = Map.copyOf(labels);
    c.runOnContext(v -> handle(copy, firing, source));
  }

  private void handle(Map<String, String> labels, boolean firing, String source) {
    String alert = new TreeMap<>(labels).toString();
    for (RemediationsConfig.Action a : config.actions()) {
      if (!matches(a.when(), labels)) {
        continue;
      }
      State s;
      if (a.quota() != null && a.quota().tenantLabel() != null) {
        String tenant = labels.get(a.quota().tenantLabel());
        if (tenant == null || tenant.isEmpty()) {
          State any = new State(a, "?");
          record(any, "failed", labels.getOrDefault("alertname", "?") + " " + new TreeMap<>(labels), source,
              "the alert has no label " + a.quota().tenantLabel() + " naming the tenant");
          continue;
        }
        s = state(new State(a, tenant));
      } else {
        s = states.get(a.name());
      }
      if (firing) {
        boolean first = s.triggers.isEmpty();
        if (!s.triggers.add(alert) || !first || s.active) {
          continue;
        }
        run(s, labels, source);
      } else if (s.triggers.remove(alert) && s.triggers.isEmpty() && s.active) {
        revert(s, labels, source);
      }
    }
  }

  private static boolean matches(Map<String, String> when, Map<String, String> labels) {
    return when.entrySet().stream().allMatch(e -> e.getValue().equals(labels.get(e.getKey())));
  }

  private void run(State s, Map<String, String> labels, String source) {
    long now = System.currentTimeMillis();
    while (!s.runs.isEmpty() && now - s.runs.peekFirst() >= 3_600_000L) {
      s.runs.removeFirst();
    }
    String cause = labels.getOrDefault("alertname", "?") + " " + new TreeMap<>(labels);
    if (s.runs.size() >= config.maxPerHour()) {
      record(s, "rate_limited", cause, source, "already ran " + s.runs.size() + " times in the last hour (max_per_hour "
          + config.maxPerHour() + ")");
      return;
    }
    if (s.busy) {
      return;
    }
    s.runs.addLast(now);
    if (s.action.dryRun()) {
      s.active = true; // so that the resolve is audited as the would-be revert
      record(s, "dry_run", cause, source, "would " + describe(s.action));
      return;
    }
    if (s.action.quota() != null) {
      raiseQuota(s, cause, source);
      return;
    }
    s.busy = true;
    String auditSource = "remediation " + s.action.name() + " (alert " + labels.getOrDefault("alertname", "?") + ")";
    vertx.executeBlocking(() -> {
      int before = routing.currentVersion();
      JsonObject target = s.table != null ? s.table : withSampling(routing.currentTable(), s.action);
      int after = routing.apply(target, auditSource);
      return new int[] {before, after};
    }, true).onComplete(ar -> {
      s.busy = false;
      if (ar.succeeded()) {
        s.active = true;
        s.previousVersion = ar.result()[0];
        s.appliedVersion = ar.result()[1];
        s.activeGauge[0] = 1;
        record(s, "applied", cause, source, describe(s.action) + ": routing table version " + s.previousVersion
            + " → " + s.appliedVersion);
      } else {
        record(s, "failed", cause, source, describe(s.action) + " failed: " + ar.cause().getMessage());
      }
    });
  }

  private void revert(State s, Map<String, String> labels, String source) {
    String cause = labels.getOrDefault("alertname", "?") + " " + new TreeMap<>(labels);
    if (s.action.dryRun()) {
      s.active = false;
      record(s, "dry_run", cause, source, "would revert: " + describe(s.action));
      return;
    }
    if (!s.action.revert()) {
      s.active = false;
      s.activeGauge[0] = 0;
      record(s, "kept", cause, source, "the alert resolved; revert is off for this action, routing table version "
          + s.appliedVersion + " stays");
      return;
    }
    if (s.action.quota() != null) {
      restoreQuota(s, cause, source);
      return;
    }
    s.busy = true;
    int applied = s.appliedVersion;
    int previous = s.previousVersion;
    vertx.executeBlocking(() -> {
      int now = routing.currentVersion();
      if (now != applied) {
        return -now; // somebody changed the table since: theirs wins
      }
      return routing.rollback(previous, "remediation " + s.action.name() + " reverted (alert resolved)");
    }, true).onComplete(ar -> {
      s.busy = false;
      s.active = false;
      s.activeGauge[0] = 0;
      if (ar.failed()) {
        record(s, "failed", cause, source, "revert to version " + previous + " failed: " + ar.cause().getMessage());
      } else if (ar.result() < 0) {
        record(s, "not_reverted", cause, source, "the routing table changed since the remediation applied version "
            + applied + " (now " + -ar.result() + "): left as it is");
      } else {
        record(s, "reverted", cause, source, "routing table back to version " + previous + "'s rules (as version "
            + ar.result() + ")");
      }
    });
  }

  /** Raises the tenant's quota by the factor, within the caps (an unlimited dimension stays unlimited). */
  private void raiseQuota(State s, String cause, String source) {
    RemediationsConfig.QuotaRaise q = s.action.quota();
    long[] now = quotas.limit(s.tenant);
    long items = raise(now[0], q.factor(), q.maxItemsPerSecond());
    long bytes = raise(now[1], q.factor(), q.maxBytesPerSecond());
    if (items == now[0] && bytes == now[1]) {
      record(s, "at_cap", cause, source, "tenant " + s.tenant + " is at its cap already (" + rates(now) + ")");
      return;
    }
    quotas.set(s.tenant, items, bytes);
    s.quotaBefore = now;
    s.quotaSet = new long[] {items, bytes};
    s.active = true;
    s.activeGauge[0] = 1;
    record(s, "applied", cause, source, "quota of tenant " + s.tenant + " raised from " + rates(now) + " to "
        + rates(s.quotaSet));
  }

  private static long raise(long current, double factor, long cap) {
    if (current == 0) {
      return 0; // unlimited stays unlimited
    }
    long raised = (long) Math.ceil(current * factor);
    return cap > 0 ? Math.max(current, Math.min(cap, raised)) : raised;
  }

  private void restoreQuota(State s, String cause, String source) {
    s.active = false;
    s.activeGauge[0] = 0;
    if (!s.action.revert()) {
      record(s, "kept", cause, source, "the alert resolved; revert is off, tenant " + s.tenant + " keeps "
          + rates(s.quotaSet));
      return;
    }
    long[] now = quotas.limit(s.tenant);
    if (!java.util.Arrays.equals(now, s.quotaSet)) {
      record(s, "not_reverted", cause, source, "the quota of tenant " + s.tenant + " changed since ("
          + rates(now) + "): left as it is");
      return;
    }
    quotas.reset(s.tenant);
    record(s, "reverted", cause, source, "quota of tenant " + s.tenant + " back to " + rates(quotas.limit(s.tenant)));
  }

  private static String rates(long[] r) {
    return (r[0] == 0 ? "unlimited" : r[0]) + " items/s, " + (r[1] == 0 ? "unlimited" : r[1]) + " bytes/s";
  }

  /** The table with the action's tail-sampling policy set on its trace rules (the named ones, or all of them). */
  static JsonObject withSampling(JsonObject table, RemediationsConfig.Action a) {
    JsonObject out = table.copy();
    JsonArray rules = out.getJsonArray("rules", new JsonArray());
    int changed = 0;
    for (int i = 0; i < rules.size(); i++) {
      JsonObject r = rules.getJsonObject(i);
      boolean named = a.samplingRules().contains(r.getString("id"));
      Object signal = r.getJsonObject("match", new JsonObject()).getValue("signal");
      boolean traces = "traces".equals(signal);
      if (a.samplingRules().isEmpty() ? traces && !r.getBoolean("drop", false) : named) {
        r.put("sampling", a.samplingPolicySet());
        changed++;
      }
    }
    if (a.samplingRules().isEmpty()) {
      // Traces no rule takes follow the default: tighten it too.
      JsonObject d = out.getJsonObject("default");
      if (d == null) {
        d = new JsonObject();
        out.put("default", d);
      }
      JsonObject t = d.getJsonObject("traces");
      if (t == null) {
        t = new JsonObject();
        d.put("traces", t);
      }
      if (!t.getBoolean("drop", false)) {
        t.put("sampling", a.samplingPolicySet());
        changed++;
      }
    }
    if (changed == 0) {
      throw new IllegalStateException("no rule of the routing table matches " + a.samplingRules());
    }
    return out;
  }

  private static String describe(RemediationsConfig.Action a) {
    if (a.quota() != null) {
      RemediationsConfig.QuotaRaise q = a.quota();
      return "raise the quota of " + (q.tenant() != null ? "tenant " + q.tenant() : "the tenant in label "
          + q.tenantLabel()) + " " + q.factor() + "×, at most " + rates(new long[] {q.maxItemsPerSecond(),
          q.maxBytesPerSecond()}).replace("unlimited", "uncapped");
    }
    return a.routingTable() != null ? "switch to the routing table " + a.routingTable()
        : "route " + (a.samplingRules().isEmpty() ? "all traces" : "the traces of rules " + a.samplingRules())
        + " to the tail-sampling policy set " + a.samplingPolicySet();
  }

  private void record(State s, String result, String cause, String source, String detail) {
    Counter.builder("gateway.remediation.runs").description("Remediation steps by action and result (applied, "
        + "reverted, dry_run, rate_limited, not_reverted, kept, at_cap, failed)").tag("action", s.action.name())
        .tag("result", result).register(registry).increment();
    JsonObject entry = new JsonObject().put("at", Instant.now().toString()).put("action", s.action.name())
        .put("result", result).put("alert", cause).put("source", source).put("detail", detail);
    if (s.tenant != null) {
      entry.put("tenant", s.tenant);
    }
    history.addLast(entry);
    while (history.size() > HISTORY) {
      history.removeFirst();
    }
    String line = "remediation " + s.action.name() + " " + result + " (alert " + cause + ", via " + source + "): "
        + detail;
    if (result.equals("failed") || result.equals("rate_limited") || result.equals("not_reverted")) {
      AUDIT.warning(line);
    } else {
      AUDIT.info(line);
    }
  }

  /**
   * {@code POST /api/v1/remediations/alertmanager}: Alertmanager's webhook body (version 4); each alert fires or
   * resolves as its status says.
   */
  public Future<JsonObject> webhook(JsonObject body) {
    if (!(body.getValue("alerts") instanceof JsonArray alerts)) {
      return Future.failedFuture(new IllegalArgumentException("alerts: expected Alertmanager's webhook body "
          + "({\"version\": \"4\", \"alerts\": [{\"status\": \"firing\", \"labels\": {...}}, ...]})"));
    }
    int taken = 0;
    for (int i = 0; i < alerts.size(); i++) {
      if (!(alerts.getValue(i) instanceof JsonObject a) || !(a.getValue("labels") instanceof JsonObject l)) {
        return Future.failedFuture(new IllegalArgumentException("alerts[" + i + "].labels: expected an object of "
            + "label values"));
      }
      String status = a.getString("status", "firing");
      if (!status.equals("firing") && !status.equals("resolved")) {
        return Future.failedFuture(new IllegalArgumentException("alerts[" + i + "].status: expected \"firing\" or "
            + "\"resolved\", found \"" + status + "\""));
      }
      Map<String, String> labels = new LinkedHashMap<>();
      l.forEach(e -> labels.put(e.getKey(), String.valueOf(e.getValue())));
      onAlert(labels, status.equals("firing"), "alertmanager webhook");
      taken++;
    }
    return Future.succeededFuture(new JsonObject().put("alerts", taken));
  }

  /** {@code GET /api/v1/remediations}: each action's state and the recent steps (newest last). */
  public Future<JsonObject> view() {
    Context c = context;
    if (c == null) {
      return Future.failedFuture("remediations are not started");
    }
    return Future.future(p -> c.runOnContext(v -> {
      JsonArray actions = new JsonArray();
      states.values().forEach(s -> actions.add(new JsonObject().put("name", s.action.name()).put("tenant", s.tenant)
          .put("when", new JsonObject(new LinkedHashMap<>(s.action.when()))).put("does", describe(s.action))
          .put("dry_run", s.action.dryRun()).put("active", s.active)
          .put("triggered_by", new JsonArray(new ArrayList<>(s.triggers)))
          .put("applied_version", s.appliedVersion < 0 ? null : s.appliedVersion)
          .put("previous_version", s.previousVersion < 0 ? null : s.previousVersion)
          .put("runs_last_hour", s.runs.size())));
      p.complete(new JsonObject().put("dry_run", config.dryRun()).put("max_per_hour", config.maxPerHour())
          .put("actions", actions).put("history", new JsonArray(new ArrayList<>(history))));
    }));
  }
}
