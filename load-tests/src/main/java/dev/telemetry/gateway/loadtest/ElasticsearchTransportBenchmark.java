package dev.telemetry.gateway.loadtest;

import dev.telemetry.gateway.config.BatchConfig;
import dev.telemetry.gateway.exporter.elasticsearch.ElasticsearchExporterConfig;
import dev.telemetry.gateway.config.QueueConfig;
import dev.telemetry.gateway.config.RetryConfig;
import dev.telemetry.gateway.exporter.ExportResult;
import dev.telemetry.gateway.exporter.elasticsearch.ElasticsearchExporter;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.opentelemetry.proto.collector.logs.v1.ExportLogsServiceRequest;
import io.opentelemetry.proto.common.v1.AnyValue;
import io.opentelemetry.proto.common.v1.KeyValue;
import io.opentelemetry.proto.logs.v1.LogRecord;
import io.opentelemetry.proto.logs.v1.ResourceLogs;
import io.opentelemetry.proto.logs.v1.ScopeLogs;
import io.opentelemetry.proto.resource.v1.Resource;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import java.lang.management.ManagementFactory;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

/**
 * Compares elasticsearch-java's two transports in the gateway's Elasticsearch exporter against a running
 * Elasticsearch: the Vert.x HTTP client (requests on the exporter's event loop) and the stock async RestClient (its
 * own I/O threads, results hopped back). Same documents, same bulk size, same concurrency; reports documents/s, the
 * process CPU time per document and the live thread count. Bounded: a fixed number of batches per run.
 *
 * <pre>java -cp load-tests/target/benchmarks.jar dev.telemetry.gateway.loadtest.ElasticsearchTransportBenchmark \
 *   http://127.0.0.1:9200 [batches=200] [docs-per-batch=1000] [in-flight=4]</pre>
 */
public final class ElasticsearchTransportBenchmark {
  private ElasticsearchTransportBenchmark() {
  }

  public static void main(String[] args) throws Exception {
    URI es = URI.create(args.length > 0 ? args[0] : "http://127.0.0.1:9200");
    int batches = args.length > 1 ? Integer.parseInt(args[1]) : 200;
    int docs = args.length > 2 ? Integer.parseInt(args[2]) : 1000;
    int inFlight = args.length > 3 ? Integer.parseInt(args[3]) : 4;
    ExportLogsServiceRequest[] requests = new ExportLogsServiceRequest[batches];
    for (int i = 0; i < batches; i++) {
      requests[i] = batch(i, docs);
    }
    // Warm both up, then measure each twice, alternating, to spread machine noise over both.
    List<ElasticsearchExporterConfig.Transport> order = List.of(ElasticsearchExporterConfig.Transport.VERTX,
        ElasticsearchExporterConfig.Transport.REST_CLIENT, ElasticsearchExporterConfig.Transport.VERTX,
        ElasticsearchExporterConfig.Transport.REST_CLIENT);
    for (ElasticsearchExporterConfig.Transport t : order.subList(0, 2)) {
      run(es, t, requests, Math.min(20, batches), inFlight, "warmup");
    }
    for (ElasticsearchExporterConfig.Transport t : order) {
      System.out.println(run(es, t, requests, batches, inFlight, "measure").encode());
    }
  }

  static ExportLogsServiceRequest batch(int n, int docs) {
    ScopeLogs.Builder scope = ScopeLogs.newBuilder();
    for (int i = 0; i < docs; i++) {
      scope.addLogRecords(LogRecord.newBuilder().setTimeUnixNano(System.currentTimeMillis() * 1_000_000L + i)
          .setSeverityText("INFO").setSeverityNumberValue(9)
          .setBody(AnyValue.newBuilder().setStringValue("GET /api/v1/items/" + i + " 200 in 12ms batch " + n))
          .addAttributes(KeyValue.newBuilder().setKey("http.route").setValue(AnyValue.newBuilder()
              .setStringValue("/api/v1/items/{id}")))
          .addAttributes(KeyValue.newBuilder().setKey("http.response.status_code").setValue(AnyValue.newBuilder()
              .setIntValue(200))));
    }
    return ExportLogsServiceRequest.newBuilder().addResourceLogs(ResourceLogs.newBuilder()
        .setResource(Resource.newBuilder().addAttributes(KeyValue.newBuilder().setKey("service.name")
            .setValue(AnyValue.newBuilder().setStringValue("bench"))))
        .addScopeLogs(scope)).build();
  }

  static JsonObject run(URI es, ElasticsearchExporterConfig.Transport transport, ExportLogsServiceRequest[] requests,
                        int batches, int inFlight, String phase) throws Exception {
    Path dlq = Files.createTempFile("bench-dlq", ".jsonl");
    ElasticsearchExporterConfig config = new ElasticsearchExporterConfig("bench_" + transport.name().toLowerCase(),
        List.of(es), ElasticsearchExporterConfig.Mapping.OTEL, "bench", transport.name().toLowerCase(), null,
        ElasticsearchExporterConfig.Tls.DEFAULTS, transport, Duration.ofSeconds(60), dlq, true,
        "logs-bench-" + transport.name().toLowerCase(), 300,
        QueueConfig.DEFAULTS, BatchConfig.DEFAULTS, RetryConfig.DEFAULTS);
    Vertx vertx = Vertx.vertx();
    try {
      ElasticsearchExporter exporter = new ElasticsearchExporter(vertx, config, new SimpleMeterRegistry());
      Context ctx = vertx.getOrCreateContext(); // from the main thread: a new event-loop context
      on(ctx, exporter::start).await(10, TimeUnit.SECONDS);
      var os = (com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean();
      long cpu0 = os.getProcessCpuTime();
      long t0 = System.nanoTime();
      int[] next = {0};
      int[] done = {0};
      long[] docs = {0};
      Promise<Void> finished = Promise.promise();
      Runnable[] pump = new Runnable[1];
      pump[0] = () -> {
        if (done[0] == batches) {
          finished.tryComplete();
          return;
        }
        while (next[0] < batches && next[0] - done[0] < inFlight) {
          ExportLogsServiceRequest r = requests[next[0]++];
          exporter.export(r, r.getResourceLogs(0).getScopeLogs(0).getLogRecordsCount()).onComplete(ar -> {
            if (ar.failed()) {
              finished.tryFail(ar.cause());
              return;
            }
            ExportResult res = ar.result();
            docs[0] += r.getResourceLogs(0).getScopeLogs(0).getLogRecordsCount() - res.rejected();
            done[0]++;
            pump[0].run();
          });
        }
      };
      ctx.runOnContext(v -> pump[0].run());
      finished.future().await(10, TimeUnit.MINUTES);
      long wall = System.nanoTime() - t0;
      long cpu = os.getProcessCpuTime() - cpu0;
      int threads = Thread.activeCount();
      on(ctx, exporter::stop).await(10, TimeUnit.SECONDS);
      return new JsonObject().put("phase", phase).put("transport", transport.name().toLowerCase())
          .put("documents", docs[0]).put("seconds", wall / 1e9)
          .put("docs_per_second", Math.round(docs[0] / (wall / 1e9)))
          .put("gateway_cpu_us_per_doc", Math.round(cpu / 1e3 / Math.max(1, docs[0]) * 100) / 100.0)
          .put("live_threads", threads);
    } finally {
      vertx.close().await(10, TimeUnit.SECONDS);
      Files.deleteIfExists(dlq);
    }
  }

  static <T> Future<T> on(Context ctx, Supplier<Future<T>> call) {
    Promise<T> p = Promise.promise();
    ctx.runOnContext(v -> call.get().onComplete(p));
    return p.future();
  }
}
