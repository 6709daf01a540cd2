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
  /** A routing rule's explicit index; set on the resource by the router, it overrides the data stream. */
  static final String INDEX = "elasticsearch.index";

  private DataStreams() {
  }

  /** The (dataset, namespace) of one record, or an explicit index (then dataset and namespace are null). */
  record Target(String dataset, String namespace, String index) {
    Target(String dataset, String namespace) {
      this(dataset, namespace, null);
    }

    String name() {
      return index != null ? index : "logs-" + dataset + "-" + namespace;
    }
  }

  static Target resolve(List<KeyValue> record, List<KeyValue> resource, String defaultDataset,
                        String defaultNamespace) {
    String index = first(INDEX, record, resource);
    if (index != null) {
      return new Target(null, null, sanitizeIndex(index));
    }
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

  /** A valid index name: lower case, reserved characters as {@code _}, no leading {@code _ - + .}. */
  static String sanitizeIndex(String s) {
    StringBuilder b = new StringBuilder(Math.min(s.length(), 255));
    for (char c : s.toLowerCase(Locale.ROOT).toCharArray()) {
      if (b.length() == 255) {
        break;
      }
      b.append("\\/*?\"<>| ,#:".indexOf(c) >= 0 ? '_' : c);
    }
    while (b.length() > 0 && "_-+.".indexOf(b.charAt(0)) >= 0) {
      b.deleteCharAt(0);
    }
    return b.length() == 0 ? "logs-generic-default" : b.toString();
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
