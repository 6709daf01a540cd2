package dev.telemetry.gateway.deploy;

import static org.assertj.core.api.Assertions.assertThat;

import dev.telemetry.gateway.testing.Await;
import dev.telemetry.gateway.testing.GatewayProcess;
import dev.telemetry.gateway.testing.Http;
import dev.telemetry.gateway.testing.Payloads;
import dev.telemetry.gateway.testing.Ports;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The launcher ({@code deploy/bin/telemetry-gateway}) the README, the container and the systemd unit start the
 * gateway with, run as a user would: on the shipped default config, under a memory limit. The JVM it execs (same
 * PID) gets the heap the limit allows and exits on an OutOfMemoryError; under load its resident memory stays under
 * the limit; a clean stop leaves a class-data archive that the next start maps (on JDK 25+ an AOT cache, with
 * method profiles); an invalid config stops it before the real start, with the problem named.
 */
class LauncherIT {
  static final Path ROOT = Path.of(System.getProperty("gateway.repo.root", ".."));
  static final Path LAUNCHER = ROOT.resolve("deploy/bin/telemetry-gateway");
  final HttpClient client = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();

  Process start(Path state, Map<String, String> env, int admin, int http, Path log, String... args)
      throws Exception {
    ProcessBuilder pb = new ProcessBuilder(new java.util.ArrayList<>(List.of(LAUNCHER.toString())));
    pb.command().addAll(List.of(args));
    pb.environment().put("JAVA_HOME", System.getProperty("java.home"));
    pb.environment().putAll(env);
    pb.environment().put("GATEWAY_JAR", GatewayProcess.JAR.toAbsolutePath().toString());
    pb.environment().put("GATEWAY_STATE_DIRECTORY", state.toString());
    pb.environment().put("GATEWAY_DATA_DIR", state.resolve("data").toString());
    pb.environment().put("GATEWAY_ADMIN_ENDPOINT", "127.0.0.1:" + admin);
    pb.environment().put("GATEWAY_OTLP_HTTP_ENDPOINT", "127.0.0.1:" + http);
    pb.environment().put("GATEWAY_OTLP_GRPC_ENDPOINT", "127.0.0.1:" + Ports.free());
    pb.environment().remove("JAVA_OPTS");
    return pb.redirectErrorStream(true).redirectOutput(log.toFile()).start();
  }

  static String cmdline(Process p) throws Exception {
    return Files.readString(Path.of("/proc/" + p.pid() + "/cmdline")).replace('\0', ' ');
  }

  static long rssKib(Process p) throws Exception {
    for (String line : Files.readAllLines(Path.of("/proc/" + p.pid() + "/status"))) {
      if (line.startsWith("VmRSS:")) {
        return Long.parseLong(line.replaceAll("\\D", ""));
      }
    }
    throw new IllegalStateException("no VmRSS");
  }

  @Test
  void startsTheDefaultConfigUnderItsMemoryLimitAndReusesItsClassArchive(@TempDir Path state) throws Exception {
    Path config = ROOT.resolve("config/gateway.json").toAbsolutePath();
    Map<String, String> env = Map.of("GATEWAY_MEMORY_LIMIT", "512MiB");
    int admin = Ports.free();
    int http = Ports.free();
    Process p = start(state, env, admin, http, state.resolve("first.log"), "--config", config.toString());
    try {
      Await.until("the launched gateway is ready", Duration.ofSeconds(60),
          () -> Http.status(client, "http://127.0.0.1:" + admin + "/health/ready") == 200);
      String first = cmdline(p);
      // (512 MiB - 192 MiB) * 0.75 = 240 MiB; the launcher exec'd java, so this PID is the gateway's JVM.
      assertThat(first).contains("-Xmx240m", "-XX:+ExitOnOutOfMemoryError", "-XX:+UseG1GC",
          "-XX:MaxDirectMemorySize=64m", "-XX:ArchiveClassesAtExit=").contains("-jar ");
      byte[] body = Payloads.traces("launcher", 100).toByteArray();
      long peak = 0;
      for (int i = 0; i < 2000; i++) {
        HttpResponse<String> r = client.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + http
            + "/v1/traces")).header("Content-Type", "application/x-protobuf")
            .POST(HttpRequest.BodyPublishers.ofByteArray(body)).build(), HttpResponse.BodyHandlers.ofString());
        assertThat(r.statusCode()).isEqualTo(200);
        if (i % 100 == 0) {
          peak = Math.max(peak, rssKib(p));
        }
      }
      assertThat(peak).as("RSS (KiB) under 200,000 spans").isPositive().isLessThan(512 * 1024);
      p.destroy(); // SIGTERM: drain, then the JVM writes the archive at exit
      assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
    } finally {
      GatewayProcess.kill(p);
    }
    try (var files = Files.list(state)) {
      assertThat(files.map(f -> f.getFileName().toString())).anyMatch(n -> n.startsWith("cds-") && n.endsWith(
          ".jsa"));
    }

    Process again = start(state, env, admin, http, state.resolve("second.log"), "--config", config.toString());
    try {
      Await.until("the relaunched gateway is ready", Duration.ofSeconds(60),
          () -> Http.status(client, "http://127.0.0.1:" + admin + "/health/ready") == 200);
      assertThat(cmdline(again)).contains("-XX:SharedArchiveFile=" + state + "/cds-").contains("-Xmx240m");
      assertThat(Files.readString(state.resolve("second.log"))).doesNotContain("shared archive", "[warning]");
      // The console's files are served from inside the jar.
      assertThat(Http.status(client, "http://127.0.0.1:" + admin + "/console/")).isEqualTo(200);
      assertThat(Http.status(client, "http://127.0.0.1:" + admin + "/console/js/routes.js")).isEqualTo(200);
    } finally {
      again.destroy();
      again.waitFor(60, TimeUnit.SECONDS);
      GatewayProcess.kill(again);
    }
  }

  /**
   * A JDK of feature version 25 or later: {@code -Dgateway.it.jdk25=HOME}, else the newest under /usr/lib/jvm (the
   * build machine has Temurin 25 there). Missing is a failure, not a skip: the launcher's AOT branch is shipped.
   */
  static Path jdk25() throws Exception {
    String given = System.getProperty("gateway.it.jdk25");
    if (given != null && !given.isBlank()) {
      return Path.of(given);
    }
    try (var homes = Files.list(Path.of("/usr/lib/jvm"))) {
      return homes.filter(h -> feature(h) >= 25).max(java.util.Comparator.comparingInt(LauncherIT::feature))
          .orElseThrow(() -> new AssertionError("no JDK 25+ under /usr/lib/jvm: install one (the build machine "
              + "has Temurin 25) or pass -Dgateway.it.jdk25=HOME"));
    }
  }

  static int feature(Path home) {
    try {
      for (String line : Files.readAllLines(home.resolve("release"))) {
        if (line.startsWith("JAVA_VERSION=\"")) {
          return Integer.parseInt(line.substring(14).split("[.\"+-]")[0]);
        }
      }
    } catch (Exception notAJdk) {
      // no release file, or not a version we read
    }
    return 0;
  }

  @Test
  void onJdk25TheFirstCleanStopTrainsAnAotCacheThatTheNextStartLoads(@TempDir Path state) throws Exception {
    Path config = ROOT.resolve("config/gateway.json").toAbsolutePath();
    Map<String, String> env = Map.of("GATEWAY_MEMORY_LIMIT", "512MiB", "JAVA_HOME", jdk25().toString());
    int admin = Ports.free();
    int http = Ports.free();
    byte[] body = Payloads.traces("launcher", 100).toByteArray();
    Process p = start(state, env, admin, http, state.resolve("train.log"), "--config", config.toString());
    try {
      Await.until("the launched gateway is ready", Duration.ofSeconds(60),
          () -> Http.status(client, "http://127.0.0.1:" + admin + "/health/ready") == 200);
      assertThat(cmdline(p)).contains(jdk25() + "/bin/java", "-Xmx240m", "-XX:AOTCacheOutput=" + state + "/aot-",
          "--sun-misc-unsafe-memory-access=allow").doesNotContain("ArchiveClassesAtExit");
      for (int i = 0; i < 300; i++) { // the training run's traffic: its method profiles go into the cache
        assertThat(post(http, body)).isEqualTo(200);
      }
      p.destroy(); // SIGTERM: drain, then the JVM assembles the cache at exit
      assertThat(p.waitFor(120, TimeUnit.SECONDS)).isTrue();
    } finally {
      GatewayProcess.kill(p);
    }
    String trainLog = Files.readString(state.resolve("train.log"));
    Path cache;
    try (var files = Files.list(state)) {
      cache = files.filter(f -> f.getFileName().toString().matches("aot-.*\\.aot")).findFirst()
          .orElseThrow(() -> new AssertionError("no AOT cache in " + state + "; log:\n" + trainLog));
    }
    assertThat(Files.size(cache)).isGreaterThan(1 << 20);

    Process again = start(state, env, admin, http, state.resolve("second.log"), "--config", config.toString());
    try {
      Await.until("the relaunched gateway is ready", Duration.ofSeconds(60),
          () -> Http.status(client, "http://127.0.0.1:" + admin + "/health/ready") == 200);
      assertThat(cmdline(again)).contains("-XX:AOTCache=" + cache).doesNotContain("AOTCacheOutput");
      assertThat(post(http, body)).isEqualTo(200);
      // A cache the JVM cannot use is reported as a warning and ignored; none here.
      assertThat(Files.readString(state.resolve("second.log"))).doesNotContain("[warning]", "[error]", "WARNING:");
    } finally {
      again.destroy();
      again.waitFor(60, TimeUnit.SECONDS);
      GatewayProcess.kill(again);
    }
  }

  int post(int http, byte[] body) throws Exception {
    return client.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + http + "/v1/traces"))
        .header("Content-Type", "application/x-protobuf").POST(HttpRequest.BodyPublishers.ofByteArray(body))
        .build(), HttpResponse.BodyHandlers.discarding()).statusCode();
  }

  @Test
  void anInvalidConfigStopsTheLaunchNamingTheProblem(@TempDir Path state) throws Exception {
    Path bad = state.resolve("bad.json");
    Files.writeString(bad, "{\"memory_limit\": {\"process\": \"100MiB\"}}");
    Process p = start(state, Map.of(), Ports.free(), Ports.free(), state.resolve("bad.log"), "--config",
        bad.toString());
    assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
    assertThat(p.exitValue()).isEqualTo(2);
    assertThat(Files.readString(state.resolve("bad.log"), StandardCharsets.UTF_8))
        .contains("memory_limit").contains("at least 384MiB");
  }
}
