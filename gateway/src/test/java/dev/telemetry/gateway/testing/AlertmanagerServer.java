package dev.telemetry.gateway.testing;

import java.io.IOException;
import java.net.http.HttpClient;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeUnit;

/**
 * A real Alertmanager (Debian's prometheus-alertmanager) on a loopback port, gossip off, with a config file the test
 * writes; it can be stopped and started again on the same port and storage (an outage). A missing binary fails the
 * test: CI installs it (.ci/run).
 */
public final class AlertmanagerServer implements AutoCloseable {
  private final int port;
  private final Path dir;
  private final Path config;
  private Process process;
  private final HttpClient http = HttpClient.newHttpClient();

  public AlertmanagerServer(int port, Path dir, Path config) {
    this.port = port;
    this.dir = dir;
    this.config = config;
  }

  public static Path binary(String name) {
    for (String candidate : new String[] {"/usr/bin/" + name, "/usr/local/bin/" + name}) {
      if (Files.isExecutable(Path.of(candidate))) {
        return Path.of(candidate);
      }
    }
    throw new AssertionError(name + " not found: install the Debian package 'prometheus-alertmanager' (.ci/run does)");
  }

  public AlertmanagerServer start() throws IOException {
    Files.createDirectories(dir.resolve("data"));
    process = new ProcessBuilder(binary("prometheus-alertmanager").toString(),
        "--config.file=" + config,
        "--storage.path=" + dir.resolve("data"),
        "--web.listen-address=127.0.0.1:" + port,
        "--cluster.listen-address=")
        .redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.appendTo(dir.resolve("am.log").toFile()))
        .start();
    Await.until(() -> "Alertmanager ready on port " + port + " (log: " + dir.resolve("am.log") + ")",
        Duration.ofSeconds(60), this::ready);
    return this;
  }

  private boolean ready() {
    if (!process.isAlive()) {
      throw new AssertionError("alertmanager exited: " + log());
    }
    return Http.status(http, base() + "/-/ready") == 200;
  }

  public String log() {
    try {
      return Files.readString(dir.resolve("am.log"));
    } catch (IOException e) {
      return e.toString();
    }
  }

  public String base() {
    return "http://127.0.0.1:" + port;
  }

  /** Stops it (the test's outage); {@link #start} brings it back on the same port and storage. */
  public void stop() throws InterruptedException {
    if (process != null) {
      process.destroy();
      if (!process.waitFor(30, TimeUnit.SECONDS)) {
        process.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
      }
      process = null;
    }
  }

  @Override
  public void close() throws Exception {
    stop();
  }
}
