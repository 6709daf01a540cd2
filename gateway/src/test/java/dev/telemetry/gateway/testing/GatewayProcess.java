package dev.telemetry.gateway.testing;

import java.net.http.HttpClient;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeUnit;

/**
 * The shipped jar as a process of its own: heap capped, {@code -XX:+ExitOnOutOfMemoryError} (an OutOfMemoryError
 * ends it instead of hiding), stdout and stderr to a log file.
 */
public final class GatewayProcess {
  public static final Path JAR = Path.of(System.getProperty("gateway.jar", "target/telemetry-gateway.jar"));

  private GatewayProcess() {
  }

  /** Starts the jar on {@code config} and waits until its admin server on {@code adminPort} says ready. */
  public static Process start(String heap, Path config, Path log, HttpClient client, int adminPort)
      throws Exception {
    Process p = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-Xmx" + heap,
        "-XX:+ExitOnOutOfMemoryError", "-jar", JAR.toAbsolutePath().toString(), "--config", config.toString())
        .redirectErrorStream(true).redirectOutput(log.toFile()).start();
    Await.until("the gateway is ready", Duration.ofSeconds(60),
        () -> Http.status(client, "http://127.0.0.1:" + adminPort + "/health/ready") == 200);
    return p;
  }

  /**
   * Kills a gateway a test started, if it still runs (teardown), and removes its attach socket: a JVM killed after a
   * {@code jcmd} attached to it leaves {@code /tmp/.java_pid<pid>} behind, owned by this user, and a later JVM that
   * gets the same PID as another user cannot attach to itself — Elasticsearch (run as an unprivileged user) then
   * fails to boot.
   */
  public static void kill(Process p) throws Exception {
    if (p == null) {
      return;
    }
    if (p.isAlive()) {
      p.destroyForcibly().waitFor(20, TimeUnit.SECONDS);
    }
    if (!p.isAlive()) {
      java.nio.file.Files.deleteIfExists(Path.of("/tmp/.java_pid" + p.pid()));
    }
  }
}
