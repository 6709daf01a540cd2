package dev.telemetry.gateway.otlp;

import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.Message;
import io.opentelemetry.proto.collector.logs.v1.ExportLogsPartialSuccess;
import io.opentelemetry.proto.collector.logs.v1.ExportLogsServiceRequest;
import io.opentelemetry.proto.collector.logs.v1.ExportLogsServiceResponse;
import io.opentelemetry.proto.collector.metrics.v1.ExportMetricsPartialSuccess;
import io.opentelemetry.proto.collector.metrics.v1.ExportMetricsServiceRequest;
import io.opentelemetry.proto.collector.metrics.v1.ExportMetricsServiceResponse;
import io.opentelemetry.proto.collector.trace.v1.ExportTracePartialSuccess;
import io.opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest;
import io.opentelemetry.proto.collector.trace.v1.ExportTraceServiceResponse;
import io.opentelemetry.proto.logs.v1.ResourceLogs;
import io.opentelemetry.proto.logs.v1.ScopeLogs;
import io.opentelemetry.proto.metrics.v1.Metric;
import io.opentelemetry.proto.metrics.v1.ResourceMetrics;
import io.opentelemetry.proto.metrics.v1.ScopeMetrics;
import io.opentelemetry.proto.trace.v1.ResourceSpans;
import io.opentelemetry.proto.trace.v1.ScopeSpans;
import java.util.List;
import java.util.Locale;

/**
 * The three OTLP signals, with everything the gateway needs to treat their export requests generically:
 * names, HTTP paths, gRPC service names, parsing, item counting, merging and responses.
 */
public enum Signal {
  // Heap per encoded byte of a parsed request, measured by HeapPerQueuedByteProbe (docs/benchmarks.md: 5.47, 4.13
  // and 5.32 on realistic payloads), rounded up so that charges stay an upper bound of the real heap.
  TRACES("traces", "opentelemetry.proto.collector.trace.v1.TraceService", "spans", 6.0),
  METRICS("metrics", "opentelemetry.proto.collector.metrics.v1.MetricsService", "data_points", 4.5),
  LOGS("logs", "opentelemetry.proto.collector.logs.v1.LogsService", "log_records", 6.0);

  private final String id;
  private final String grpcService;
  private final String itemName;
  private final double heapPerEncodedByte;

  Signal(String id, String grpcService, String itemName, double heapPerEncodedByte) {
    this.id = id;
    this.grpcService = grpcService;
    this.itemName = itemName;
    this.heapPerEncodedByte = heapPerEncodedByte;
  }

  /**
   * The heap a parsed request of {@code encodedBytes} takes (protobuf objects, strings, lists): what the heap ledger
   * charges for holding one.
   */
  public long parsedHeapBytes(long encodedBytes) {
    return (long) (encodedBytes * heapPerEncodedByte) + 256;
  }

  /** Lower-case name used in config keys, metric tags and file names: {@code traces}, {@code metrics}, {@code logs}. */
  public String id() {
    return id;
  }

  /** The OTLP/HTTP path, e.g. {@code /v1/traces}. */
  public String httpPath() {
    return "/v1/" + id;
  }

  /** Fully qualified gRPC service name; the method is always {@code Export}. */
  public String grpcService() {
    return grpcService;
  }

  /** What one item of this signal is called in metrics and messages (spans, data_points, log_records). */
  public String itemName() {
    return itemName;
  }

  public static Signal fromId(String id) {
    for (Signal s : values()) {
      if (s.id.equals(id.toLowerCase(Locale.ROOT))) {
        return s;
      }
    }
    throw new IllegalArgumentException("unknown signal: " + id);
  }

  /** An empty builder of this signal's export request, used by the JSON codec. */
  public Message.Builder newRequestBuilder() {
    return switch (this) {
      case TRACES -> ExportTraceServiceRequest.newBuilder();
      case METRICS -> ExportMetricsServiceRequest.newBuilder();
      case LOGS -> ExportLogsServiceRequest.newBuilder();
    };
  }

  public Message parseRequest(byte[] bytes) throws InvalidProtocolBufferException {
    return switch (this) {
      case TRACES -> ExportTraceServiceRequest.parseFrom(bytes);
      case METRICS -> ExportMetricsServiceRequest.parseFrom(bytes);
      case LOGS -> ExportLogsServiceRequest.parseFrom(bytes);
    };
  }

  public Message emptyRequest() {
    return switch (this) {
      case TRACES -> ExportTraceServiceRequest.getDefaultInstance();
      case METRICS -> ExportMetricsServiceRequest.getDefaultInstance();
      case LOGS -> ExportLogsServiceRequest.getDefaultInstance();
    };
  }

  public Message emptyResponse() {
    return switch (this) {
      case TRACES -> ExportTraceServiceResponse.getDefaultInstance();
      case METRICS -> ExportMetricsServiceResponse.getDefaultInstance();
      case LOGS -> ExportLogsServiceResponse.getDefaultInstance();
    };
  }

  /** The top-level resource entries (ResourceSpans, ResourceMetrics or ResourceLogs) of a request. */
  public List<? extends Message> resources(Message request) {
    return switch (this) {
      case TRACES -> ((ExportTraceServiceRequest) request).getResourceSpansList();
      case METRICS -> ((ExportMetricsServiceRequest) request).getResourceMetricsList();
      case LOGS -> ((ExportLogsServiceRequest) request).getResourceLogsList();
    };
  }

  /** Builds one request holding all given resource entries (which must belong to this signal). */
  @SuppressWarnings("unchecked")
  public Message requestOf(List<? extends Message> resources) {
    return switch (this) {
      case TRACES -> ExportTraceServiceRequest.newBuilder()
          .addAllResourceSpans((List<ResourceSpans>) resources).build();
      case METRICS -> ExportMetricsServiceRequest.newBuilder()
          .addAllResourceMetrics((List<ResourceMetrics>) resources).build();
      case LOGS -> ExportLogsServiceRequest.newBuilder()
          .addAllResourceLogs((List<ResourceLogs>) resources).build();
    };
  }

  /** Counts the items (spans, metric data points, log records) in a request. */
  public int itemCount(Message request) {
    int n = 0;
    switch (this) {
      case TRACES -> {
        for (ResourceSpans rs : ((ExportTraceServiceRequest) request).getResourceSpansList()) {
          for (ScopeSpans ss : rs.getScopeSpansList()) {
            n += ss.getSpansCount();
          }
        }
      }
      case METRICS -> {
        for (ResourceMetrics rm : ((ExportMetricsServiceRequest) request).getResourceMetricsList()) {
          for (ScopeMetrics sm : rm.getScopeMetricsList()) {
            for (Metric m : sm.getMetricsList()) {
              n += dataPointCount(m);
            }
          }
        }
      }
      case LOGS -> {
        for (ResourceLogs rl : ((ExportLogsServiceRequest) request).getResourceLogsList()) {
          for (ScopeLogs sl : rl.getScopeLogsList()) {
            n += sl.getLogRecordsCount();
          }
        }
      }
    }
    return n;
  }

  public static int dataPointCount(Metric m) {
    return switch (m.getDataCase()) {
      case GAUGE -> m.getGauge().getDataPointsCount();
      case SUM -> m.getSum().getDataPointsCount();
      case HISTOGRAM -> m.getHistogram().getDataPointsCount();
      case EXPONENTIAL_HISTOGRAM -> m.getExponentialHistogram().getDataPointsCount();
      case SUMMARY -> m.getSummary().getDataPointsCount();
      case DATA_NOT_SET -> 0;
    };
  }

  /** The export response; a partial success is included only when something was rejected. */
  public Message response(long rejected, String errorMessage) {
    if (rejected == 0 && (errorMessage == null || errorMessage.isEmpty())) {
      return emptyResponse();
    }
    String msg = errorMessage == null ? "" : errorMessage;
    return switch (this) {
      case TRACES -> ExportTraceServiceResponse.newBuilder().setPartialSuccess(
          ExportTracePartialSuccess.newBuilder().setRejectedSpans(rejected).setErrorMessage(msg)).build();
      case METRICS -> ExportMetricsServiceResponse.newBuilder().setPartialSuccess(
          ExportMetricsPartialSuccess.newBuilder().setRejectedDataPoints(rejected).setErrorMessage(msg)).build();
      case LOGS -> ExportLogsServiceResponse.newBuilder().setPartialSuccess(
          ExportLogsPartialSuccess.newBuilder().setRejectedLogRecords(rejected).setErrorMessage(msg)).build();
    };
  }

  /** Reads (rejected item count, error message) from an export response, for exporters. */
  public PartialSuccess partialSuccess(Message response) {
    return switch (this) {
      case TRACES -> {
        ExportTracePartialSuccess p = ((ExportTraceServiceResponse) response).getPartialSuccess();
        yield new PartialSuccess(p.getRejectedSpans(), p.getErrorMessage());
      }
      case METRICS -> {
        ExportMetricsPartialSuccess p = ((ExportMetricsServiceResponse) response).getPartialSuccess();
        yield new PartialSuccess(p.getRejectedDataPoints(), p.getErrorMessage());
      }
      case LOGS -> {
        ExportLogsPartialSuccess p = ((ExportLogsServiceResponse) response).getPartialSuccess();
        yield new PartialSuccess(p.getRejectedLogRecords(), p.getErrorMessage());
      }
    };
  }

  /** What a backend's (or our own) {@code ExportPartialSuccess} says. */
  public record PartialSuccess(long rejected, String errorMessage) {
  }
}
