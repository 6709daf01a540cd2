package dev.telemetry.gateway.routing;

import dev.telemetry.gateway.otlp.Signal;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.opentelemetry.proto.collector.logs.v1.ExportLogsServiceRequest;
import io.opentelemetry.proto.common.v1.AnyValue;
import io.opentelemetry.proto.common.v1.KeyValue;
import io.opentelemetry.proto.logs.v1.LogRecord;
import io.opentelemetry.proto.logs.v1.ResourceLogs;
import io.opentelemetry.proto.logs.v1.ScopeLogs;
import io.opentelemetry.proto.logs.v1.SeverityNumber;
import io.opentelemetry.proto.resource.v1.Resource;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/**
 * Routing cost by table size and shape. The request: 10 resources (services spread over the whole rule range) × 50
 * log records; one op = one log record routed. Shapes:
 * <ul>
 *   <li>{@code by_service}: one rule per service ({@code resource service.name equals}), what multi-team tables
 *       look like; the index applies and each resource is decided once.</li>
 *   <li>{@code mixed}: the same plus, first, an item-level tap ({@code severity at_least ERROR}, continue) and every
 *       tenth rule a prefix/regex; every record is evaluated and the request is split.</li>
 *   <li>{@code regex_only}: one unanchored RE2 regex per service; no index: the worst case.</li>
 * </ul>
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(1)
public class RoutingBenchmark {
  static final int RESOURCES = 10;
  static final int RECORDS = 50;

  @Param({"10", "100", "1000"})
  int rules;

  @Param({"by_service", "mixed", "regex_only"})
  String shape;

  private RouteMatcher matcher;
  private ExportLogsServiceRequest request;

  @Setup
  public void setUp() throws RoutingTableException {
    StringBuilder t = new StringBuilder("{\"rules\": [");
    if (shape.equals("mixed")) {
      t.append("{\"id\": \"errors\", \"match\": {\"severity\": {\"at_least\": \"ERROR\"}}, \"exporters\": [\"b\"],"
          + " \"continue\": true},");
    }
    for (int i = 0; i < rules; i++) {
      String match = switch (shape) {
        case "regex_only" -> "{\"resource\": {\"service.name\": {\"regex\": \"^svc-" + i + "$\"}}}";
        case "mixed" -> i % 10 == 9 ? "{\"resource\": {\"service.name\": {\"prefix\": \"team-" + i + "-\"}}}"
            : "{\"resource\": {\"service.name\": \"svc-" + i + "\"}}";
        default -> "{\"resource\": {\"service.name\": \"svc-" + i + "\"}}";
      };
      t.append(i == 0 ? "" : ",").append("{\"id\": \"r").append(i).append("\", \"match\": ").append(match)
          .append(", \"exporters\": [\"").append(i % 2 == 0 ? "a" : "b").append("\"]}");
    }
    RoutingCatalog catalog = new RoutingCatalog(Map.of(Signal.LOGS, List.of("a", "b")), Set.of(), Set.of());
    matcher = new RouteMatcher(RoutingTableParser.parse(t.append("]}").toString(), catalog),
        new SimpleMeterRegistry());
    ExportLogsServiceRequest.Builder req = ExportLogsServiceRequest.newBuilder();
    for (int r = 0; r < RESOURCES; r++) {
      int service = (int) ((long) r * (rules - 1) / (RESOURCES - 1)); // first .. last rule
      ScopeLogs.Builder sl = ScopeLogs.newBuilder();
      for (int i = 0; i < RECORDS; i++) {
        sl.addLogRecords(LogRecord.newBuilder().setTimeUnixNano(1_700_000_000_000_000_000L + i)
            .setSeverityNumber(i % 10 == 0 ? SeverityNumber.SEVERITY_NUMBER_ERROR : SeverityNumber.SEVERITY_NUMBER_INFO)
            .setBody(AnyValue.newBuilder().setStringValue("order " + i + " processed"))
            .addAttributes(kv("order.id", Integer.toString(100_000 + i))));
      }
      req.addResourceLogs(ResourceLogs.newBuilder().setResource(Resource.newBuilder()
          .addAttributes(kv("service.name", "svc-" + service)).addAttributes(kv("host.name", "node-" + r))
          .addAttributes(kv("deployment.environment.name", "prod"))).addScopeLogs(sl));
    }
    request = req.build();
  }

  static KeyValue kv(String k, String v) {
    return KeyValue.newBuilder().setKey(k).setValue(AnyValue.newBuilder().setStringValue(v)).build();
  }

  @Benchmark
  @OperationsPerInvocation(RESOURCES * RECORDS)
  public Object route() {
    return matcher.route(Signal.LOGS, request, RESOURCES * RECORDS, null);
  }
}
