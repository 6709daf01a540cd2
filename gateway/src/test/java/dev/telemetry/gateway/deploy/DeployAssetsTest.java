package dev.telemetry.gateway.deploy;

import static org.assertj.core.api.Assertions.assertThat;

import dev.telemetry.gateway.component.Components;
import dev.telemetry.gateway.config.ExporterConfig;
import dev.telemetry.gateway.config.GatewayConfig;
import dev.telemetry.gateway.config.QueueConfig;
import dev.telemetry.gateway.testing.Processes;
import dev.telemetry.gateway.receiver.otlp.OtlpReceiverConfig;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * The systemd unit and the container recipe in deploy/ agree with the gateway they run: systemd accepts the unit
 * ({@code systemd-analyze verify}, a missing binary fails the test), it stops within the time the gateway drains,
 * reloads with SIGHUP, counts the JVM's SIGTERM exit as success and leaves only the state directory writable — where
 * the shipped config keeps its queues; the image runs as a non-root user, exposes the config's ports, keeps state in
 * its volume and checks a health path the admin server serves.
 */
class DeployAssetsTest {
  static final Path ROOT = Path.of(System.getProperty("gateway.repo.root", ".."));
  static final String STATE = "/var/lib/telemetry-gateway";

  static Map<String, List<String>> unit(Path file) throws Exception {
    Map<String, List<String>> keys = new HashMap<>();
    for (String line : Files.readAllLines(file)) {
      String l = line.strip();
      int eq = l.indexOf('=');
      if (!l.isEmpty() && !l.startsWith("#") && !l.startsWith("[") && eq > 0) {
        keys.computeIfAbsent(l.substring(0, eq), k -> new ArrayList<>()).add(l.substring(eq + 1));
      }
    }
    return keys;
  }

  static String one(Map<String, List<String>> unit, String key) {
    assertThat(unit.get(key)).as(key).isNotNull().hasSize(1);
    return unit.get(key).get(0);
  }

  static GatewayConfig load(Path config) throws Exception {
    return Components.BUILT_IN.configLoader(Map.of("GATEWAY_STATE_DIRECTORY", STATE)::get).load(config);
  }

  /** Every directory the config writes: persistent queues (their WAL, and the sampler's journal beside it). */
  static List<Path> writtenDirectories(GatewayConfig config) {
    List<Path> out = new ArrayList<>();
    for (ExporterConfig e : config.exporters().values()) {
      QueueConfig q = e.queue();
      if (q.type() == QueueConfig.Type.PERSISTENT) {
        out.add(q.directory());
      }
    }
    return out;
  }

  @Test
  void systemdUnitVerifiesAndMatchesTheGateway(@org.junit.jupiter.api.io.TempDir Path tmp) throws Exception {
    Path service = ROOT.resolve("deploy/systemd/telemetry-gateway.service");
    // verify wants ExecStart's program to exist: the unit as shipped, but with the launcher where this test put it.
    Path launcher = tmp.resolve("opt/telemetry-gateway/bin/telemetry-gateway");
    Files.createDirectories(launcher.getParent());
    Files.copy(ROOT.resolve("deploy/bin/telemetry-gateway"), launcher);
    Path installed = tmp.resolve("telemetry-gateway.service");
    Files.writeString(installed, Files.readString(service).replace("/opt/telemetry-gateway/bin/telemetry-gateway",
        launcher.toString()));
    String out = run(systemdAnalyze(), "verify", installed.toString());
    assertThat(out).as("systemd-analyze verify says nothing about a clean unit").doesNotContain("telemetry-gateway");

    Map<String, List<String>> unit = unit(service);
    assertThat(one(unit, "User")).isEqualTo("telemetry-gateway");
    assertThat(one(unit, "StateDirectory")).isEqualTo("telemetry-gateway");
    assertThat(one(unit, "WorkingDirectory")).isEqualTo(STATE);
    assertThat(one(unit, "ExecReload")).contains("-HUP").contains("$MAINPID");
    assertThat(one(unit, "SuccessExitStatus")).contains("143");
    assertThat(one(unit, "Restart")).isEqualTo("on-failure");
    assertThat(one(unit, "ProtectSystem")).isEqualTo("strict");
    assertThat(one(unit, "NoNewPrivileges")).isEqualTo("yes");
    assertThat(Long.parseLong(one(unit, "LimitNOFILE"))).isGreaterThanOrEqualTo(65536);
    assertThat(one(unit, "CapabilityBoundingSet")).isEmpty();
    // The launcher, installed beside the jar it finds (../telemetry-gateway.jar), sizes the heap from MemoryMax.
    assertThat(one(unit, "ExecStart")).startsWith("/opt/telemetry-gateway/bin/telemetry-gateway ")
        .contains("--config /etc/telemetry-gateway/gateway.json");
    assertThat(one(unit, "ExecStartPre")).contains("-jar /opt/telemetry-gateway/telemetry-gateway.jar");
    assertThat(one(unit, "MemoryMax")).matches("\\d+M");
    assertThat(Files.readString(ROOT.resolve("deploy/bin/telemetry-gateway")))
        .contains("\"$here/../telemetry-gateway.jar\"");
    assertThat(one(unit, "ExecStartPre")).contains("--check");
    assertThat(unit.get("Environment")).contains("GATEWAY_STATE_DIRECTORY=" + STATE);

    // The config it ships loads, drains within the stop timeout, and writes only under the state directory
    // (ProtectSystem=strict makes the rest read-only).
    GatewayConfig config = load(ROOT.resolve("deploy/systemd/gateway.json"));
    long stopSeconds = Long.parseLong(one(unit, "TimeoutStopSec"));
    assertThat(stopSeconds).as("TimeoutStopSec covers shutdown_timeout and the 10 s the gateway adds")
        .isGreaterThanOrEqualTo(config.shutdownTimeout().toSeconds() + 10);
    assertThat(writtenDirectories(config)).isNotEmpty().allMatch(d -> d.startsWith(STATE));

    String sysusers = Files.readString(ROOT.resolve("deploy/systemd/telemetry-gateway.sysusers"));
    assertThat(sysusers).containsPattern("(?m)^u telemetry-gateway - \"[^\"]+\" " + STATE + " /usr/sbin/nologin$");
  }

  @Test
  void containerRecipeMatchesTheGatewayItRuns() throws Exception {
    String recipe = Files.readString(ROOT.resolve("deploy/container/Containerfile"));
    Matcher user = Pattern.compile("(?m)^USER (\\d+)$").matcher(recipe);
    assertThat(user.find()).as("USER is numeric (Kubernetes runAsNonRoot checks it)").isTrue();
    assertThat(Integer.parseInt(user.group(1))).isPositive();
    assertThat(recipe).contains("VOLUME [\"" + STATE + "\"]").contains("GATEWAY_STATE_DIRECTORY=" + STATE)
        .contains("WORKDIR " + STATE);
    // Every COPY source exists in the repository, or is the jar the build makes.
    Matcher copy = Pattern.compile("(?m)^COPY (\\S+) (\\S+)$").matcher(recipe);
    List<String> sources = new ArrayList<>();
    while (copy.find()) {
      sources.add(copy.group(1));
    }
    assertThat(sources).contains("gateway/target/telemetry-gateway.jar", "deploy/container/gateway.json",
        "deploy/bin/telemetry-gateway");
    assertThat(recipe).contains("COPY deploy/bin/telemetry-gateway /opt/telemetry-gateway/bin/telemetry-gateway")
        .contains("COPY gateway/target/telemetry-gateway.jar /opt/telemetry-gateway/telemetry-gateway.jar")
        .contains("ENTRYPOINT [\"/opt/telemetry-gateway/bin/telemetry-gateway\"]");
    assertThat(Files.isExecutable(ROOT.resolve("deploy/bin/telemetry-gateway"))).isTrue();
    assertThat(Files.readString(ROOT.resolve("gateway/pom.xml"))).contains("<finalName>telemetry-gateway</finalName>");
    sources.stream().filter(s -> !s.startsWith("gateway/target/")).forEach(s -> assertThat(ROOT.resolve(s))
        .exists());
    assertThat(recipe).contains("--config\", \"/etc/telemetry-gateway/gateway.json");

    GatewayConfig config = load(ROOT.resolve("deploy/container/gateway.json"));
    TreeSet<Integer> ports = new TreeSet<>();
    OtlpReceiverConfig otlp = (OtlpReceiverConfig) config.receivers().get("otlp");
    ports.add(otlp.grpc().port());
    ports.add(otlp.http().port());
    ports.add(config.admin().endpoint().port());
    Matcher expose = Pattern.compile("(?m)^EXPOSE ([\\d ]+)$").matcher(recipe);
    assertThat(expose.find()).isTrue();
    TreeSet<Integer> exposed = new TreeSet<>();
    for (String port : expose.group(1).trim().split(" +")) {
      exposed.add(Integer.parseInt(port));
    }
    assertThat(exposed).isEqualTo(ports);
    assertThat(config.admin().endpoint().host()).as("probes reach the admin server from outside the container")
        .isEqualTo("0.0.0.0");
    assertThat(writtenDirectories(config)).isNotEmpty().allMatch(d -> d.startsWith(STATE));
    // The health check asks a path the admin server serves.
    assertThat(recipe).contains("GET /health/ready").contains("/dev/tcp/127.0.0.1/" + config.admin().endpoint()
        .port());
    assertThat(Files.readString(ROOT.resolve("gateway/src/main/java/dev/telemetry/gateway/admin/AdminServer.java")))
        .contains("router.get(\"/health/ready\")");
  }

  /**
   * The gateway's own alert rules load in promtool and each fires on its "fires" input and stays quiet on its
   * "quiet" one (gateway-rules.test.yml); every alert has a runbook page and every runbook page an alert.
   */
  @Test
  void gatewayAlertRulesPassPromtoolAndEachHasItsRunbook() throws Exception {
    Path rules = ROOT.resolve("deploy/prometheus/gateway-rules.yml");
    assertThat(run(promtool(), "check", "rules", rules.toString())).contains("SUCCESS");
    assertThat(run(promtool(), "test", "rules", ROOT.resolve("deploy/prometheus/gateway-rules.test.yml")
        .toString())).contains("SUCCESS");
    String text = Files.readString(rules);
    String tests = Files.readString(ROOT.resolve("deploy/prometheus/gateway-rules.test.yml"));
    Matcher alert = Pattern.compile("(?m)^\\s+- alert: (\\w+)$").matcher(text);
    TreeSet<String> alerts = new TreeSet<>();
    while (alert.find()) {
      alerts.add(alert.group(1));
    }
    assertThat(alerts).hasSizeGreaterThanOrEqualTo(10);
    Matcher runbook = Pattern.compile("runbook_url: \"https://github.com/telemetry-gateway/telemetry-gateway/blob/"
        + "main/docs/runbooks/(\\w+)\\.md\"").matcher(text);
    TreeSet<String> linked = new TreeSet<>();
    while (runbook.find()) {
      linked.add(runbook.group(1));
    }
    assertThat(linked).as("every alert links its own runbook").isEqualTo(alerts);
    for (String a : alerts) {
      assertThat(tests).as("a firing and a quiet case for " + a).contains("# " + a + " fires")
          .contains("# " + a + " stays quiet");
    }
    TreeSet<String> pages = new TreeSet<>();
    try (var files = Files.list(ROOT.resolve("docs/runbooks"))) {
      files.map(f -> f.getFileName().toString()).filter(f -> f.endsWith(".md") && !f.equals("README.md"))
          .forEach(f -> pages.add(f.substring(0, f.length() - 3)));
    }
    TreeSet<String> expected = new TreeSet<>(alerts);
    expected.add(dev.telemetry.gateway.analytics.slo.PrometheusRules.ALERT); // the SLO alert's generic page
    // The alerts the gateway's own evaluators send.
    expected.add(dev.telemetry.gateway.analytics.slo.SloService.EXHAUSTION_ALERT);
    expected.add(dev.telemetry.gateway.analytics.anomaly.AnomalyService.ALERT);
    expected.add(dev.telemetry.gateway.analytics.forecast.ForecastService.QUEUE_ALERT);
    expected.add(dev.telemetry.gateway.analytics.forecast.ForecastService.COST_ALERT);
    assertThat(pages).as("every runbook page belongs to an alert").isEqualTo(expected);
    for (String page : pages) {
      assertThat(Files.readString(ROOT.resolve("docs/runbooks/" + page + ".md"))).contains("## Diagnosis")
          .contains("## Remediation").contains("## Escalation");
    }
  }

  static String promtool() {
    return Processes.binary("prometheus", "/usr/bin/promtool", "/usr/local/bin/promtool");
  }

  static String run(String... cmd) throws Exception {
    return Processes.run(cmd);
  }

  static String systemdAnalyze() {
    return Processes.binary("systemd", "/usr/bin/systemd-analyze", "/bin/systemd-analyze");
  }

}
