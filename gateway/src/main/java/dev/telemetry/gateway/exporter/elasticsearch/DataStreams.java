package dev.telemetry.gateway.exporter.elasticsearch;

import io.opentelemetry.proto.common.v1.KeyValue;
import java.util.List;
import java.util.Locale;

/**
 * Chooses a log record's data stream, {@code logs-<dataset>-<namespace>}: the record's {@code data_stream.dataset} /
 * {@code data_stream.namespace} attributes first, then the resource's, then the exporter's defaults. Values are made
 * valid Elasticsearch name parts (lower case; {@code -} and other reserved characters become {@code _}).
 */
final class DataStreams {
  static final String DATASET = "data_stream.dataset";
  static final String NAMESPACE = "data_stream.namespace";

  private DataStreams() {
  }

  /** The (dataset, namespace) of one record. */
  record Target(String dataset, String namespace) {
    String name() {
      return "logs-" + dataset + "-" + namespace;
    }
  }

  static Target resolve(List<KeyValue> record, List<KeyValue> resource, String defaultDataset,
                        String defaultNamespace) {
    String dataset = first(DATASET, record, resource);
    String namespace = first(NAMESPACE, record, resource);
    return new Target(dataset == null ? defaultDataset : sanitize(dataset),
        namespace == null ? defaultNamespace : sanitize(namespace));
  }

  private static String first(String key, List<KeyValue> a, List<KeyValue> b) {
    for (List<KeyValue> attrs : List.of(a, b)) {
      for (KeyValue kv : attrs) {
        if (kv.getKey().equals(key) && kv.getValue().hasStringValue() && !kv.getValue().getStringValue().isBlank()) {
          return kv.getValue().getStringValue();
        }
      }
    }
    return null;
  }

  static String sanitize(String s) {
    StringBuilder b = new StringBuilder(Math.min(s.length(), 100));
    for (char c : s.toLowerCase(Locale.ROOT).toCharArray()) {
      if (b.length() == 100) {
        break;
      }
      b.append("-\\/*?\"<>| ,#:".indexOf(c) >= 0 ? '_' : c);
    }
    while (b.length() > 0 && (b.charAt(0) == '_' || b.charAt(0) == '.')) {
      b.deleteCharAt(0);
    }
    return b.length() == 0 ? "generic" : b.toString();
  }
}
