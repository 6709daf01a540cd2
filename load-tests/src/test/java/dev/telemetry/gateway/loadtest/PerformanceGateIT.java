package dev.telemetry.gateway.loadtest;

import static org.assertj.core.api.Assertions.assertThat;

import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.core.http.HttpServer;
import io.vertx.core.json.JsonObject;
import java.net.http.HttpClient;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/**
 * The performance regression gate, sized for CI: the shipped jar, started by the launcher as its own process,
 * takes OTLP/HTTP traces at a fixed rate, once with the full trace pipeline (redaction → tail sampling → OTLP) and
 * once as a passthrough (OTLP → queue → OTLP), alternating, {@code rounds} times each. What is compared is the
 * gateway process's CPU per span (from /proc, so the load generator in this JVM does not count; nor do the JIT
 * compiler threads, whose warm-up varies from run to run) of the full pipeline
 * against the passthrough's, best round of each, as spans per CPU-second relative to passthrough: both run on the
 * same machine minutes apart, so the machine's speed cancels out and what remains is the cost of the pipeline's own
 * work. It fails when that figure drops more than its margin below the committed baseline
 * (src/test/resources/performance-baseline.json), or when any request is refused or fails. A round that cannot
 * hold the rate is reported and replaced (up to {@code max_rounds}); the gate fails if no round of a kind held it.
 */
class PerformanceGateIT {
  static final Path ROOT = Path.of(System.getProperty("gateway.repo.root", ".."));
  static final Path JAR = Path.of(System.getProperty("gateway.jar", "../gateway/target/telemetry-gateway.jar"));

  record Run(String config, double microsPerSpan, JsonObject step) {
    /** The round delivered what was offered: at least 95 % of the rate, no request held back by the in-flight cap. */
    boolean heldRate() {
      return step.getLong("achieved_items_per_second") >= step.getLong("offered_items_per_second") * 0.95
          && step.getLong("not_issued_in_flight_cap") == 0;
    }
  }

  @Test
  void fullPipelineCostsNoMoreThanTheBaselineRelativeToPassthrough() throws Exception {
    JsonObject baseline = new JsonObject(Files.readString(Path.of("src/test/resources/performance-baseline.json")));
    double rate = baseline.getDouble("rate");
    int rounds = baseline.getInteger("rounds");
    int maxRounds = baseline.getInteger("max_rounds");
    Vertx sinkVertx = Vertx.vertx(new VertxOptions().setEventLoopPoolSize(1));
    Vertx clientVertx = Vertx.vertx(new VertxOptions().setEventLoopPoolSize(1));
    AtomicLong sinkSpans = new AtomicLong();
    int sinkPort = SaturationBenchmark.freePort();
    HttpServer sink = SaturationBenchmark.startSink(sinkVertx, sinkPort, sinkSpans);
    List<Run> runs = new ArrayList<>();
    try {
      byte[][] payloads = SaturationBenchmark.payloads(500, 100, new Random(1));
      // A round that could not hold the offered rate (the machine busy with something else, a slow CI runner)
      // measured a different regime — a saturated gateway batches more per wake-up — so it does not count, and
      // another round is run in its place, up to max_rounds in all.
      for (int round = 0; round < maxRounds && (held(runs, "passthrough") < rounds
          || held(runs, "full-pipeline") < rounds); round++) {
        for (String config : List.of("passthrough", "full-pipeline")) {
          if (held(runs, config) < rounds) {
            runs.add(run(config, baseline, sinkPort, sinkSpans, clientVertx, payloads));
          }
        }
      }
    } finally {
      sink.close().await(10, TimeUnit.SECONDS);
      sinkVertx.close().await(30, TimeUnit.SECONDS);
      clientVertx.close().await(30, TimeUnit.SECONDS);
    }
    assertThat(held(runs, "passthrough")).as("passthrough rounds that held %.0f spans/s: %s", rate, runs)
        .isPositive();
    assertThat(held(runs, "full-pipeline")).as("full-pipeline rounds that held %.0f spans/s: %s", rate, runs)
        .isPositive();
    double pass = best(runs, "passthrough");
    double full = best(runs, "full-pipeline");
    double relative = pass / full; // spans per CPU-second, full pipeline relative to passthrough
    double floor = baseline.getDouble("relative") * (1 - baseline.getDouble("margin"));
    String report = String.format(Locale.ROOT, "gateway CPU per span at %.0f spans/s: passthrough %.2f µs, full "
        + "pipeline %.2f µs; full pipeline's spans per CPU-second relative to passthrough %.3f (baseline %.3f, "
        + "fails below %.3f); runs: %s", rate, pass, full, relative, baseline.getDouble("relative"), floor, runs);
    System.out.println(report);
    Files.writeString(Path.of("target/performance-gate.txt"), report + "\n");
    for (Run r : runs) {
      assertThat(r.step().getDouble("refused_ratio")).as("refused, " + r).isZero();
      assertThat(r.step().getLong("errors")).as("errors, " + r).isZero();
    }
    assertThat(relative).as(report).isGreaterThanOrEqualTo(floor);
  }

  static void deleteTree(Path dir) throws java.io.IOException {
    try (var paths = Files.walk(dir)) {
      for (Path p : paths.sorted(java.util.Comparator.reverseOrder()).toList()) {
        Files.deleteIfExists(p);
      }
    }
  }

  static double best(List<Run> runs, String config) {
    return runs.stream().filter(r -> r.config().equals(config) && r.heldRate()).mapToDouble(Run::microsPerSpan)
        .min().orElseThrow();
  }

  static long held(List<Run> runs, String config) {
    return runs.stream().filter(r -> r.config().equals(config) && r.heldRate()).count();
  }

  /**
   * CPU ticks of the gateway's threads but its JIT compilers: when the compilers finish warming up varies by tens
   * of seconds between runs, and is not the pipeline's cost per span (GC is: it stays in).
   */
  static long workTicks(long pid) throws Exception {
    long ticks = 0;
    try (var tasks = Files.list(Path.of("/proc/" + pid + "/task"))) {
      for (Path t : tasks.toList()) {
        try {
          if (Files.readString(t.resolve("comm")).startsWith("C")
              && Files.readString(t.resolve("comm")).contains("CompilerThre")) {
            continue;
          }
          String stat = Files.readString(t.resolve("stat"));
          String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
          ticks += Long.parseLong(f[11]) + Long.parseLong(f[12]); // utime, stime (fields 14, 15)
        } catch (java.io.IOException gone) {
          // the thread ended
        }
      }
    }
    return ticks;
  }

  Run run(String name, JsonObject baseline, int sinkPort, AtomicLong sinkSpans, Vertx clientVertx,
          byte[][] payloads) throws Exception {
    int grpc = SaturationBenchmark.freePort();
    int http = SaturationBenchmark.freePort();
    int admin = SaturationBenchmark.freePort();
    Path dir = Files.createTempDirectory("gate");
    Path config = dir.resolve("gateway.json");
    Files.writeString(config, SaturationBenchmark.template(name).replace("{{GRPC}}", "" + grpc)
        .replace("{{HTTP}}", "" + http).replace("{{ADMIN}}", "" + admin).replace("{{SINK}}", "" + sinkPort)
        .replace("{{TMP}}", dir.toString()));
    ProcessBuilder pb = new ProcessBuilder(ROOT.resolve("deploy/bin/telemetry-gateway").toString(), "--config",
        config.toString());
    pb.environment().put("JAVA_HOME", System.getProperty("java.home"));
    pb.environment().put("GATEWAY_JAR", JAR.toAbsolutePath().toString());
    pb.environment().put("GATEWAY_MEMORY_LIMIT", "1536MiB");
    pb.environment().put("GATEWAY_CDS", "off");
    pb.environment().remove("JAVA_OPTS");
    Process gateway = pb.redirectErrorStream(true).redirectOutput(dir.resolve("gateway.log").toFile()).start();
    HttpClient admins = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
    try {
      SoakRun.awaitReady(admins, admin, gateway);
      SaturationBenchmark.Sender sender = new SaturationBenchmark.HttpSender(clientVertx, new int[] {http}, 64,
          dev.telemetry.gateway.otlp.Signal.TRACES, false);
      double rate = baseline.getDouble("rate");
      SaturationBenchmark.runStep(clientVertx, sender, payloads, 100, rate, baseline.getInteger("warmup_seconds"),
          64, sinkSpans);
      long before = workTicks(gateway.pid());
      long t0 = System.nanoTime();
      JsonObject step = SaturationBenchmark.runStep(clientVertx, sender, payloads, 100, rate,
          baseline.getInteger("measure_seconds"), 64, sinkSpans);
      double seconds = (System.nanoTime() - t0) / 1e9;
      double cpuSeconds = (workTicks(gateway.pid()) - before) / 100.0; // USER_HZ
      double spans = step.getLong("achieved_items_per_second") * seconds;
      return new Run(name, cpuSeconds * 1e6 / spans, step);
    } finally {
      gateway.destroy();
      if (!gateway.waitFor(30, TimeUnit.SECONDS)) {
        gateway.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
      }
      if (gateway.exitValue() == 0 || gateway.exitValue() == 143) {
        deleteTree(dir); // kept when the gateway failed: its log says why
      }
    }
  }
}
