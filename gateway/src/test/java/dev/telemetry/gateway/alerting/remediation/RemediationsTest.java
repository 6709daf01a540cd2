package dev.telemetry.gateway.alerting.remediation;

import static org.assertj.core.api.Assertions.assertThat;

import dev.telemetry.gateway.config.RemediationsConfig;
import dev.telemetry.gateway.testing.Await;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class RemediationsTest {
  static final JsonObject BASE = new JsonObject("""
      {"rules": [{"id": "checkout", "match": {"signal": "traces"}, "sampling": "keep-all"},
                 {"id": "logs", "match": {"signal": "logs"}, "exporters": ["es"]}]}""");
  static final JsonObject SHED = new JsonObject("""
      {"rules": [{"id": "shed-debug", "match": {"signal": "logs", "severity_number": {"lt": 9}}, "drop": true}]}""");

  /** The routing table versions, as RouteTables keeps them. */
  static final class Tables implements RoutingControl {
    final List<JsonObject> versions = new ArrayList<>(List.of(BASE));
    final List<String> sources = new ArrayList<>(List.of("file"));

    @Override
    public synchronized JsonObject currentTable() {
      return versions.get(versions.size() - 1);
    }

    @Override
    public synchronized int currentVersion() {
      return versions.size();
    }

    @Override
    public List<String> validate(JsonObject table) {
      return table.containsKey("rules") ? List.of() : List.of("rules: required");
    }

    @Override
    public synchronized int apply(JsonObject table, String source) {
      versions.add(table);
      sources.add(source);
      return versions.size();
    }

    @Override
    public synchronized int rollback(int version, String source) {
      return apply(versions.get(version - 1), source);
    }
  }

  @TempDir
  Path tmp;
  Vertx vertx;
  Tables tables;
  SimpleMeterRegistry registry;

  @BeforeEach
  void setUp() {
    vertx = Vertx.vertx();
    tables = new Tables();
    registry = new SimpleMeterRegistry();
  }

  @AfterEach
  void tearDown() throws Exception {
    vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
  }

  Remediations start(RemediationsConfig config) throws Exception {
    Remediations r = new Remediations(vertx, config, tables, registry);
    r.start().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
    return r;
  }

  RemediationsConfig.Action shed(boolean dryRun) throws Exception {
    Path file = tmp.resolve("shed.json");
    Files.writeString(file, SHED.encode());
    return new RemediationsConfig.Action("shed-debug-logs", Map.of("alertname", "QueueFilling"), file, null,
        List.of(), true, dryRun, "remediations.actions[0]");
  }

  static JsonArray history(Remediations r) {
    try {
      return r.view().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS).getJsonArray("history");
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
  }

  @Test
  void firingAppliesTheTableAndTheLastResolveRollsBack() throws Exception {
    Remediations r = start(new RemediationsConfig(false, 4, List.of(shed(false))));
    Map<String, String> a = Map.of("alertname", "QueueFilling", "exporter", "es");
    Map<String, String> b = Map.of("alertname", "QueueFilling", "exporter", "jaeger");
    r.onAlert(a, true, "test");
    r.onAlert(b, true, "test");
    r.onAlert(Map.of("alertname", "Other"), true, "test");
    Await.until("applied", Duration.ofSeconds(10), () -> tables.currentVersion() == 2);
    assertThat(tables.currentTable()).isEqualTo(SHED);
    assertThat(tables.sources.get(1)).isEqualTo("remediation shed-debug-logs (alert QueueFilling)");
    r.onAlert(a, false, "test");
    Thread.sleep(200);
    assertThat(tables.currentVersion()).as("one of two alerts still fires: stays applied").isEqualTo(2);
    r.onAlert(b, false, "test");
    Await.until("reverted", Duration.ofSeconds(10), () -> tables.currentVersion() == 3);
    assertThat(tables.currentTable()).isEqualTo(BASE);
    Await.until("audited", Duration.ofSeconds(10), () -> history(r).size() == 2);
    assertThat(history(r).stream().map(o -> ((JsonObject) o).getString("result")).toList())
        .containsExactly("applied", "reverted");
    assertThat(registry.get("gateway.remediation.runs").tag("result", "applied").counter().count()).isEqualTo(1);
  }

  @Test
  void aPersonsChangeAfterTheRemediationIsNotRevertedOver() throws Exception {
    Remediations r = start(new RemediationsConfig(false, 4, List.of(shed(false))));
    Map<String, String> a = Map.of("alertname", "QueueFilling");
    r.onAlert(a, true, "test");
    Await.until("applied", Duration.ofSeconds(10), () -> tables.currentVersion() == 2);
    JsonObject mine = BASE.copy().put("description", "hand edit");
    tables.apply(mine, "api");
    r.onAlert(a, false, "test");
    Await.until("audited", Duration.ofSeconds(10), () -> history(r).size() == 2);
    assertThat(((JsonObject) history(r).getValue(1)).getString("result")).isEqualTo("not_reverted");
    assertThat(tables.currentTable()).isEqualTo(mine);
  }

  @Test
  void runsAreRateLimitedPerActionAndDryRunChangesNothing() throws Exception {
    Remediations r = start(new RemediationsConfig(false, 1, List.of(shed(false))));
    Map<String, String> a = Map.of("alertname", "QueueFilling");
    r.onAlert(a, true, "test");
    Await.until("applied", Duration.ofSeconds(10), () -> tables.currentVersion() == 2);
    r.onAlert(a, false, "test");
    Await.until("reverted", Duration.ofSeconds(10), () -> tables.currentVersion() == 3);
    r.onAlert(a, true, "test");
    Await.until("rate limited", Duration.ofSeconds(10), () -> history(r).size() == 3);
    assertThat(((JsonObject) history(r).getValue(2)).getString("result")).isEqualTo("rate_limited");
    assertThat(tables.currentVersion()).isEqualTo(3);

    Remediations dry = start(new RemediationsConfig(true, 4, List.of(shed(true))));
    dry.onAlert(a, true, "test");
    dry.onAlert(a, false, "test");
    Await.until("audited", Duration.ofSeconds(10), () -> history(dry).size() == 2);
    assertThat(history(dry).encode()).contains("would switch to the routing table").contains("would revert");
    assertThat(tables.currentVersion()).isEqualTo(3);
  }

  @Test
  void theSamplingActionRoutesTraceRulesAndTheTracesDefaultToTheStricterSet() {
    RemediationsConfig.Action all = new RemediationsConfig.Action("strict", Map.of("alertname", "X"), null,
        "errors-only", List.of(), true, false, "remediations.actions[0]");
    JsonObject out = Remediations.withSampling(BASE, all);
    assertThat(out.getJsonArray("rules").getJsonObject(0).getString("sampling")).isEqualTo("errors-only");
    assertThat(out.getJsonArray("rules").getJsonObject(1).containsKey("sampling")).isFalse();
    assertThat(out.getJsonObject("default").getJsonObject("traces").getString("sampling")).isEqualTo("errors-only");
    assertThat(BASE.getJsonArray("rules").getJsonObject(0).getString("sampling")).as("not changed in place")
        .isEqualTo("keep-all");
    RemediationsConfig.Action none = new RemediationsConfig.Action("strict", Map.of("alertname", "X"), null,
        "errors-only", List.of("no-such-rule"), true, false, "remediations.actions[0]");
    org.assertj.core.api.Assertions.assertThatThrownBy(() -> Remediations.withSampling(BASE, none))
        .hasMessageContaining("no rule of the routing table matches [no-such-rule]");
  }

  /** Tenant quotas as TenantQuotas keeps them: configured rates and overrides. */
  static final class Quotas implements QuotaControl {
    final Map<String, long[]> configured = new java.util.HashMap<>(Map.of("acme", new long[] {100, 0},
        "beta", new long[] {400, 1000}));
    final Map<String, long[]> overrides = new java.util.concurrent.ConcurrentHashMap<>();

    @Override
    public long[] limit(String tenant) {
      return overrides.getOrDefault(tenant, configured.getOrDefault(tenant, new long[] {50, 0}));
    }

    @Override
    public void set(String tenant, long items, long bytes) {
      overrides.put(tenant, new long[] {items, bytes});
    }

    @Override
    public void reset(String tenant) {
      overrides.remove(tenant);
    }
  }

  @Test
  void aTenantsQuotaIsRaisedWithinItsCapPerTenantOfTheAlertAndRestored() throws Exception {
    Quotas quotas = new Quotas();
    RemediationsConfig.Action raise = new RemediationsConfig.Action("raise-quota",
        Map.of("alertname", "TenantQuotaPressure"), null, null, List.of(),
        new RemediationsConfig.QuotaRaise(null, "tenant", 3, 1000, 1500), true, false, "remediations.actions[0]");
    Remediations r = new Remediations(vertx, new RemediationsConfig(false, 4, List.of(raise)), tables, quotas,
        registry);
    r.start().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
    Map<String, String> acme = Map.of("alertname", "TenantQuotaPressure", "tenant", "acme");
    Map<String, String> beta = Map.of("alertname", "TenantQuotaPressure", "tenant", "beta");
    r.onAlert(acme, true, "test");
    r.onAlert(beta, true, "test");
    r.onAlert(Map.of("alertname", "TenantQuotaPressure"), true, "test"); // names no tenant: a failure, audited
    Await.until("both raised", Duration.ofSeconds(10), () -> quotas.overrides.size() == 2);
    assertThat(quotas.limit("acme")).containsExactly(300, 0); // 3×; unlimited bytes stay unlimited
    assertThat(quotas.limit("beta")).containsExactly(1000, 1500); // 1200 and 3000 capped
    r.onAlert(acme, false, "test");
    Await.until("acme restored", Duration.ofSeconds(10), () -> !quotas.overrides.containsKey("acme"));
    assertThat(quotas.overrides).containsKey("beta");
    r.onAlert(beta, false, "test");
    Await.until("beta restored", Duration.ofSeconds(10), () -> quotas.overrides.isEmpty());
    assertThat(history(r).stream().map(o -> ((JsonObject) o).getString("result")).toList())
        .containsExactlyInAnyOrder("applied", "applied", "failed", "reverted", "reverted");
    assertThat(r.view().toCompletionStage().toCompletableFuture().get().getJsonArray("actions").stream()
        .map(o -> ((JsonObject) o).getString("tenant")).toList()).containsExactlyInAnyOrder("acme", "beta");
  }

  @Test
  void anInvalidPreApprovedTableFailsTheStartNamingTheAction() throws Exception {
    Path file = tmp.resolve("bad.json");
    Files.writeString(file, "{\"oops\": 1}");
    Remediations r = new Remediations(vertx, new RemediationsConfig(false, 4, List.of(new RemediationsConfig.Action(
        "bad", Map.of("alertname", "X"), file, null, List.of(), true, false, "remediations.actions[0]"))), tables,
        registry);
    Throwable e = r.start().toCompletionStage().toCompletableFuture().handle((v, t) -> t).get(10, TimeUnit.SECONDS);
    assertThat(e).hasMessageContaining("remediations.actions[0].routing_table (" + file + "): rules: required");
  }

  @Test
  void theAlertmanagerWebhookFiresAndResolvesAndABadBodyIsTheCallersMistake() throws Exception {
    Remediations r = start(new RemediationsConfig(false, 4, List.of(shed(false))));
    JsonObject firing = new JsonObject().put("version", "4").put("alerts", new JsonArray().add(new JsonObject()
        .put("status", "firing").put("labels", new JsonObject().put("alertname", "QueueFilling"))));
    assertThat(r.webhook(firing).toCompletionStage().toCompletableFuture().get().getInteger("alerts")).isEqualTo(1);
    Await.until("applied", Duration.ofSeconds(10), () -> tables.currentVersion() == 2);
    JsonObject resolved = firing.copy();
    resolved.getJsonArray("alerts").getJsonObject(0).put("status", "resolved");
    r.webhook(resolved);
    Await.until("reverted", Duration.ofSeconds(10), () -> tables.currentVersion() == 3);
    Throwable bad = r.webhook(new JsonObject().put("alerts", new JsonArray().add(new JsonObject()
        .put("status", "firing").put("labels", "x")))).cause();
    assertThat(bad).isInstanceOf(IllegalArgumentException.class).hasMessageContaining("alerts[0].labels");
  }
}
