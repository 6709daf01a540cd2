package dev.telemetry.gateway.routing;

import io.opentelemetry.proto.collector.logs.v1.ExportLogsServiceRequest;
import io.opentelemetry.proto.common.v1.AnyValue;
import io.opentelemetry.proto.common.v1.KeyValue;
import io.opentelemetry.proto.logs.v1.LogRecord;
import io.opentelemetry.proto.logs.v1.ResourceLogs;
import io.opentelemetry.proto.logs.v1.ScopeLogs;
import java.util.List;
import java.util.Set;

/**
 * Applies a route's Elasticsearch target to logs: the resource gets {@code data_stream.dataset} /
 * {@code data_stream.namespace} (or {@code elasticsearch.index}), which the Elasticsearch exporter reads. The route
 * is authoritative: the same attributes on log records, which would otherwise win, are removed, so an application
 * cannot write into another tenant's data stream.
 */
public final class ElasticsearchStamp {
  public static final String DATASET = "data_stream.dataset";
  public static final String NAMESPACE = "data_stream.namespace";
  public static final String INDEX = "elasticsearch.index";
  private static final Set<String> KEYS = Set.of(DATASET, NAMESPACE, INDEX);

  private ElasticsearchStamp() {
  }

  public static ExportLogsServiceRequest apply(ExportLogsServiceRequest request, Action.ElasticsearchTarget target) {
    ExportLogsServiceRequest.Builder out = request.toBuilder();
    for (ResourceLogs.Builder rl : out.getResourceLogsBuilderList()) {
      List<KeyValue> attrs = rl.getResource().getAttributesList();
      io.opentelemetry.proto.resource.v1.Resource.Builder res = rl.getResourceBuilder().clearAttributes();
      for (KeyValue kv : attrs) {
        if (!KEYS.contains(kv.getKey())) {
          res.addAttributes(kv);
        }
      }
      if (target.index() != null) {
        res.addAttributes(kv(INDEX, target.index()));
      }
      if (target.dataset() != null) {
        res.addAttributes(kv(DATASET, target.dataset()));
      }
      if (target.namespace() != null) {
        res.addAttributes(kv(NAMESPACE, target.namespace()));
      }
      for (ScopeLogs.Builder sl : rl.getScopeLogsBuilderList()) {
        for (int i = 0; i < sl.getLogRecordsCount(); i++) {
          LogRecord r = sl.getLogRecords(i);
          if (r.getAttributesList().stream().anyMatch(a -> KEYS.contains(a.getKey()))) {
            LogRecord.Builder b = r.toBuilder().clearAttributes();
            r.getAttributesList().stream().filter(a -> !KEYS.contains(a.getKey())).forEach(b::addAttributes);
            sl.setLogRecords(i, b);
          }
        }
      }
    }
    return out.build();
  }

  private static KeyValue kv(String key, String value) {
    return KeyValue.newBuilder().setKey(key).setValue(AnyValue.newBuilder().setStringValue(value)).build();
  }
}
