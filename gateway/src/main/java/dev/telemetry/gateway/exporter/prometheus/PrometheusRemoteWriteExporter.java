package dev.telemetry.gateway.exporter.prometheus;

import com.google.protobuf.Message;
import dev.telemetry.gateway.exporter.prometheus.PrometheusRemoteWriteExporterConfig;
import dev.telemetry.gateway.exporter.ExportException;
import dev.telemetry.gateway.exporter.ExportResult;
import dev.telemetry.gateway.exporter.Exporter;
import dev.telemetry.gateway.logging.RateLimitedLog;
import dev.telemetry.proto.prometheus.TimeSeries;
import dev.telemetry.proto.prometheus.WriteRequest;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tags;
import io.opentelemetry.proto.collector.metrics.v1.ExportMetricsServiceRequest;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.HttpClientRequest;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.PoolOptions;
import io.vertx.core.http.RequestOptions;
import java.time.Duration;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import java.util.Map;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * Prometheus remote-write 1.0: translates each batch of OTLP metrics once, spreads the series over {@code shards}
 * by label hash (so a series is always sent by the same shard, in order), cuts each shard's series into requests of
 * at most {@code max_samples_per_send} samples / {@code max_bytes_per_send} bytes, and sends the shards concurrently,
 * each one request at a time. Snappy-compressed protobuf with the spec's headers.
 *
 * <p>Per the spec, 5xx and 429 are retried (honouring Retry-After) and other 4xx are not: the rejected series are
 * counted and named in the log. A retried batch resumes where each shard stopped — requests Prometheus already took
 * are not sent again, and delta state is applied once.
 */
public final class PrometheusRemoteWriteExporter implements Exporter {
  private static final Logger LOG = Logger.getLogger(PrometheusRemoteWriteExporter.class.getName());
  static final String USER_AGENT = "telemetry-gateway/0.1.0";

  private final Vertx vertx;
  private final PrometheusRemoteWriteExporterConfig config;
  private final RemoteWriteTranslator translator;
  private final RateLimitedLog rejectLog = new RateLimitedLog(LOG, 10_000);
  private final Counter samplesSent;
  private final Counter requestsSent;
  private final MeterRegistry registry;
  private final Tags tags;
  /** Progress of batches that failed retryably, by request identity; the queue retries with the same instance. */
  private final List<Pending> pending = new ArrayList<>();
  private HttpClient client;
  private long expiryTimer = -1;

  public PrometheusRemoteWriteExporter(Vertx vertx, PrometheusRemoteWriteExporterConfig config,
                                       MeterRegistry registry) {
    this.vertx = vertx;
    this.config = config;
    this.translator = new RemoteWriteTranslator(config);
    this.registry = registry;
    this.tags = Tags.of("exporter", config.name());
    this.samplesSent = Counter.builder("gateway.exporter.prometheus.samples.sent")
        .description("Samples, histograms and exemplars Prometheus accepted").tags(tags).register(registry);
    this.requestsSent = Counter.builder("gateway.exporter.prometheus.requests")
        .description("Remote-write requests sent").tags(tags).register(registry);
    Gauge.builder("gateway.exporter.prometheus.delta.series", translator.state()::size)
        .description("Series with delta-to-cumulative state").tags(tags).register(registry);
    io.micrometer.core.instrument.FunctionCounter.builder("gateway.exporter.prometheus.delta.evictions",
            translator.state(), CumulativeState::evictions)
        .description("Delta states evicted because max_series was reached (each restarts its series)")
        .tags(tags).register(registry);
  }

  private record Pending(Message request, List<Deque<Chunk>> shards, int droppedPoints, String droppedMessage) {
  }

  /** One remote-write request: the series it carries and the OTLP data points they came from. */
  private record Chunk(WriteRequest request, int dataPoints, int weight) {
  }

  @Override
  public Future<Void> start() {
    HttpClientOptions options = new HttpClientOptions()
        .setConnectTimeout((int) Math.min(Integer.MAX_VALUE, config.timeout().toMillis()))
        .setKeepAlive(true)
        .setSsl("https".equals(config.endpoint().getScheme()))
        .setVerifyHost(true);
    if ("https".equals(config.endpoint().getScheme())) {
      dev.telemetry.gateway.security.tls.ClientTls.apply(options, config.tls());
    }
    client = vertx.createHttpClient(options, new PoolOptions().setHttp1MaxSize(config.shards()));
    long sweep = Math.max(1000, config.deltaTtl().toMillis() / 2);
    expiryTimer = vertx.setPeriodic(sweep, id -> translator.state().expire(System.currentTimeMillis()));
    return Future.succeededFuture();
  }

  @Override
  public Future<ExportResult> export(Message request, int items) {
    Pending p = pendingFor(request);
    List<Future<ShardOutcome>> shards = new ArrayList<>();
    for (Deque<Chunk> shard : p.shards()) {
      shards.add(sendShard(shard, new ShardOutcome()));
    }
    return Future.join(shards).transform(x -> {
      int rejected = p.droppedPoints();
      List<String> messages = new ArrayList<>();
      if (p.droppedMessage() != null) {
        messages.add(p.droppedMessage());
      }
      ExportException retry = null;
      for (Future<ShardOutcome> f : shards) {
        ShardOutcome o = f.result();
        rejected += o.rejectedPoints;
        if (o.rejectedMessage != null) {
          messages.add(o.rejectedMessage);
        }
        if (o.retry != null && (retry == null || later(o.retry, retry))) {
          retry = o.retry;
        }
      }
      if (retry != null) {
        return Future.failedFuture(retry);
      }
      pending.removeIf(e -> e.request() == request);
      return Future.succeededFuture(rejected == 0 ? ExportResult.OK
          : new ExportResult(rejected, String.join("; ", messages)));
    });
  }

  private static boolean later(ExportException a, ExportException b) {
    Duration da = a.retryAfter() == null ? Duration.ZERO : a.retryAfter();
    Duration db = b.retryAfter() == null ? Duration.ZERO : b.retryAfter();
    return da.compareTo(db) > 0;
  }

  private Pending pendingFor(Message request) {
    for (Pending p : pending) {
      if (p.request() == request) {
        return p;
      }
    }
    RemoteWriteTranslator.Translation t = translator.translate((ExportMetricsServiceRequest) request,
        System.currentTimeMillis());
    List<List<TimeSeries>> byShard = new ArrayList<>();
    List<List<SeriesData>> sources = new ArrayList<>();
    for (int i = 0; i < config.shards(); i++) {
      byShard.add(new ArrayList<>());
      sources.add(new ArrayList<>());
    }
    for (SeriesData s : t.series()) {
      sources.get(s.labels.shard(config.shards())).add(s);
    }
    List<Deque<Chunk>> shards = new ArrayList<>();
    for (List<SeriesData> shardSeries : sources) {
      shards.add(chunks(shardSeries));
    }
    int dropped = t.dropped().values().stream().mapToInt(Integer::intValue).sum();
    String droppedMessage = dropped == 0 ? null : "not translatable: " + t.dropped();
    Pending p = new Pending(request, shards, dropped, droppedMessage);
    pending.add(p);
    if (pending.size() > 4) { // entries of batches the queue gave up on
      pending.remove(0);
    }
    return p;
  }

  private Deque<Chunk> chunks(List<SeriesData> series) {
    Deque<Chunk> out = new ArrayDeque<>();
    WriteRequest.Builder b = WriteRequest.newBuilder();
    int weight = 0;
    long bytes = 0;
    int points = 0;
    for (SeriesData s : series) {
      TimeSeries ts = s.toProto();
      int w = s.weight();
      long size = ts.getSerializedSize();
      if (b.getTimeseriesCount() > 0 && (weight + w > config.maxSamplesPerSend()
          || bytes + size > config.maxBytesPerSend())) {
        out.add(new Chunk(b.build(), points, weight));
        b = WriteRequest.newBuilder();
        weight = 0;
        bytes = 0;
        points = 0;
      }
      b.addTimeseries(ts);
      weight += w;
      bytes += size;
      points += s.dataPoints;
    }
    if (b.getTimeseriesCount() > 0) {
      out.add(new Chunk(b.build(), points, weight));
    }
    return out;
  }

  /** What one shard achieved in this attempt. */
  private static final class ShardOutcome {
    int rejectedPoints;
    String rejectedMessage;
    ExportException retry;
  }

  private Future<ShardOutcome> sendShard(Deque<Chunk> shard, ShardOutcome outcome) {
    Chunk next = shard.peek();
    if (next == null) {
      return Future.succeededFuture(outcome);
    }
    return send(next).transform(ar -> {
      if (ar.succeeded()) {
        shard.poll();
        samplesSent.increment(next.weight());
        return sendShard(shard, outcome);
      }
      ExportException e = (ExportException) ar.cause();
      if (e.retryable()) {
        outcome.retry = e;
        return Future.succeededFuture(outcome);
      }
      shard.poll();
      outcome.rejectedPoints += next.dataPoints();
      outcome.rejectedMessage = e.getMessage();
      rejectLog.log(Level.WARNING, "rejected", "exporter " + config.name() + ": Prometheus rejected "
          + next.request().getTimeseriesCount() + " series (" + seriesNames(next.request()) + "): " + e.getMessage());
      return sendShard(shard, outcome);
    });
  }

  private static String seriesNames(WriteRequest r) {
    java.util.Set<String> names = new java.util.TreeSet<>();
    for (TimeSeries ts : r.getTimeseriesList()) {
      ts.getLabelsList().stream().filter(l -> l.getName().equals("__name__")).findFirst()
          .ifPresent(l -> names.add(l.getValue()));
      if (names.size() >= 10) {
        names.add("...");
        break;
      }
    }
    return String.join(", ", names);
  }

  /** One HTTP request; fails with a classified {@link ExportException}. */
  private Future<Void> send(Chunk chunk) {
    Promise<Void> result = Promise.promise();
    Buffer body = Buffer.buffer(Snappy.compress(chunk.request().toByteArray()));
    RequestOptions options = new RequestOptions().setMethod(HttpMethod.POST);
    String serverName = "https".equals(config.endpoint().getScheme()) ? config.tls().serverName() : null;
    if (serverName == null) {
      options.setAbsoluteURI(config.endpoint().toString());
    } else {
      // Connect to the endpoint, but verify (and send as SNI and Host) the configured name.
      int port = config.endpoint().getPort() > 0 ? config.endpoint().getPort() : 443;
      options.setServer(io.vertx.core.net.SocketAddress.inetSocketAddress(port, config.endpoint().getHost()))
          .setHost(serverName).setPort(port).setSsl(true).setURI(config.endpoint().getRawPath()
              + (config.endpoint().getRawQuery() == null ? "" : "?" + config.endpoint().getRawQuery()));
    }
    options
        .putHeader("Content-Encoding", "snappy")
        .putHeader("Content-Type", "application/x-protobuf")
        .putHeader("X-Prometheus-Remote-Write-Version", "0.1.0")
        .putHeader("User-Agent", USER_AGENT);
    for (Map.Entry<String, String> h : config.headers().entrySet()) {
      options.putHeader(h.getKey(), h.getValue());
    }
    long timeoutMs = config.timeout().toMillis();
    HttpClientRequest[] inFlight = {null};
    long timer = vertx.setTimer(timeoutMs, id -> {
      if (result.tryFail(ExportException.retryable("timeout", "no response within " + timeoutMs + "ms", null))
          && inFlight[0] != null) {
        inFlight[0].reset();
      }
    });
    requestsSent.increment();
    client.request(options)
        .compose(req -> {
          inFlight[0] = req;
          return req.send(body);
        })
        .compose(resp -> resp.body().map(b -> classify(resp.statusCode(), resp.getHeader("Retry-After"), b)))
        .onComplete(ar -> {
          vertx.cancelTimer(timer);
          if (ar.failed()) {
            result.tryFail(new ExportException("cannot reach " + config.endpoint() + ": " + ar.cause(), true, null,
                "unavailable", ar.cause()));
          } else if (ar.result() == null) {
            result.tryComplete();
          } else {
            result.tryFail(ar.result());
          }
        });
    return result.future();
  }

  /** Null for success; otherwise the failure, retryable for 5xx and 429 only (remote-write spec). */
  static ExportException classify(int status, String retryAfter, Buffer body) {
    if (status >= 200 && status < 300) {
      return null;
    }
    String text = body == null ? "" : body.toString().trim();
    if (text.length() > 500) {
      text = text.substring(0, 500) + "...";
    }
    String message = "HTTP " + status + (text.isEmpty() ? "" : ": " + text);
    if (status >= 500 || status == 429) {
      return ExportException.retryable("http_" + status, message, parseRetryAfter(retryAfter));
    }
    return ExportException.permanent("http_" + status, message);
  }

  /** Retry-After as delta-seconds or an HTTP date; null when absent or unreadable. */
  static Duration parseRetryAfter(String value) {
    if (value == null || value.isBlank()) {
      return null;
    }
    try {
      return Duration.ofSeconds(Math.max(0, Long.parseLong(value.trim())));
    } catch (NumberFormatException e) {
      try {
        ZonedDateTime at = ZonedDateTime.parse(value.trim(), DateTimeFormatter.RFC_1123_DATE_TIME);
        Duration d = Duration.between(ZonedDateTime.now(at.getZone()), at);
        return d.isNegative() ? Duration.ZERO : d;
      } catch (RuntimeException ignored) {
        return null;
      }
    }
  }

  @Override
  public Future<Void> stop() {
    if (expiryTimer >= 0) {
      vertx.cancelTimer(expiryTimer);
    }
    registry.find("gateway.exporter.prometheus.delta.series").tags(tags).meters().forEach(registry::remove);
    return client == null ? Future.succeededFuture() : client.close();
  }
}
