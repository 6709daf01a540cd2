package dev.telemetry.gateway.testing;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeUnit;

/**
 * A real Prometheus (the Debian package's binary) on a loopback port with a temporary data directory, with the
 * remote-write receiver, native histograms and exemplar storage enabled. A missing binary fails the test: CI
 * installs it (.ci/run).
 */
public final class PrometheusServer implements AutoCloseable {
  private final int port;
  private final Path dir;
  private Process process;
  private final HttpClient http = HttpClient.newHttpClient();

  private final java.util.List<String> scrapeTargets;

  public PrometheusServer(int port, Path dir) {
    this(port, dir, java.util.List.of());
  }

  /** Also scrapes {@code /metrics} of these host:port targets every second (job "telemetry-gateway"). */
  public PrometheusServer(int port, Path dir, java.util.List<String> scrapeTargets) {
    this.port = port;
    this.dir = dir;
    this.scrapeTargets = java.util.List.copyOf(scrapeTargets);
  }

  public static Path binary() {
    for (String candidate : new String[] {System.getenv("PROMETHEUS_BIN"), "/usr/bin/prometheus",
        "/usr/local/bin/prometheus"}) {
      if (candidate != null && Files.isExecutable(Path.of(candidate))) {
        return Path.of(candidate);
      }
    }
    throw new AssertionError("prometheus binary not found: install the Debian package 'prometheus' "
        + "(.ci/run does) or set PROMETHEUS_BIN");
  }

  public PrometheusServer start() throws IOException {
    Files.createDirectories(dir.resolve("data"));
    Path config = dir.resolve("prometheus.yml");
    StringBuilder yml = new StringBuilder("global:\n  scrape_interval: 1m\n");
    if (!scrapeTargets.isEmpty()) {
      yml.append("scrape_configs:\n  - job_name: telemetry-gateway\n    scrape_interval: 1s\n    static_configs:\n"
          + "      - targets: [").append(String.join(", ", scrapeTargets.stream().map(t -> "\"" + t + "\"")
          .toList())).append("]\n");
    }
    Files.writeString(config, yml.toString());
    process = new ProcessBuilder(binary().toString(),
        "--config.file=" + config,
        "--storage.tsdb.path=" + dir.resolve("data"),
        "--web.listen-address=127.0.0.1:" + port,
        "--web.enable-remote-write-receiver",
        "--enable-feature=native-histograms,exemplar-storage")
        .redirectErrorStream(true).redirectOutput(dir.resolve("prometheus.log").toFile()).start();
    Await.until(() -> "Prometheus ready on port " + port + " (log: " + dir.resolve("prometheus.log") + ")",
        Duration.ofSeconds(60), this::ready);
    return this;
  }

  private boolean ready() {
    if (!process.isAlive()) {
      throw new AssertionError("prometheus exited: " + log());
    }
    return Http.status(http, base() + "/-/ready") == 200;
  }

  public String log() {
    try {
      return Files.readString(dir.resolve("prometheus.log"));
    } catch (IOException e) {
      return e.toString();
    }
  }

  public String base() {
    return "http://127.0.0.1:" + port;
  }

  public String writeEndpoint() {
    return base() + "/api/v1/write";
  }

  public JsonObject api(String pathAndQuery) throws Exception {
    HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create(base() + pathAndQuery)).build(),
        HttpResponse.BodyHandlers.ofString());
    JsonObject body = new JsonObject(r.body());
    if (!"success".equals(body.getString("status"))) {
      throw new AssertionError("Prometheus API " + pathAndQuery + " failed: " + r.body());
    }
    Object data = body.getValue("data");
    return data instanceof JsonArray a ? new JsonObject().put("result", a) : (JsonObject) data;
  }

  /** The result vector of an instant query. */
  public JsonArray query(String promql) throws Exception {
    return api("/api/v1/query?query=" + URLEncoder.encode(promql, StandardCharsets.UTF_8)).getJsonArray("result");
  }

  public JsonArray series(String match) throws Exception {
    return api("/api/v1/series?match[]=" + URLEncoder.encode(match, StandardCharsets.UTF_8))
        .getJsonArray("result");
  }

  public JsonArray exemplars(String promql, long startSeconds, long endSeconds) throws Exception {
    return api("/api/v1/query_exemplars?query=" + URLEncoder.encode(promql, StandardCharsets.UTF_8)
        + "&start=" + startSeconds + "&end=" + endSeconds).getJsonArray("result");
  }

  @Override
  public void close() throws Exception {
    if (process != null) {
      process.destroy();
      if (!process.waitFor(30, TimeUnit.SECONDS)) {
        process.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
      }
    }
  }
}
