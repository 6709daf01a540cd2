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
    return clean(s, 255, "_-+.", "\\/*?\"<>| ,#:", "logs-generic-default");
  }

  /** A valid data stream name part: as an index name, and {@code -} becomes {@code _} (it separates the parts). */
  static String sanitize(String s) {
    return clean(s, 100, "_.", "-\\/*?\"<>| ,#:", "generic");
  }

  /**
   * Lower case, reserved characters, white space and control characters as {@code _}, at most {@code max} UTF-8
   * bytes (Elasticsearch counts bytes, not characters), no bad leading character.
   */
  private static String clean(String s, int max, String badLeading, String reserved, String fallback) {
    StringBuilder b = new StringBuilder(Math.min(s.length(), max));
    int bytes = 0;
    String lower = s.toLowerCase(Locale.ROOT);
    for (int i = 0; i < lower.length(); ) {
      int c = lower.codePointAt(i);
      i += Character.charCount(c);
      if (reserved.indexOf(c) >= 0 || Character.isWhitespace(c) || Character.isISOControl(c)
          || Character.isSpaceChar(c) || Character.getType(c) == Character.SURROGATE) {
        c = '_';
      }
      int n = c < 0x80 ? 1 : c < 0x800 ? 2 : c < 0x10000 ? 3 : 4;
      if (bytes + n > max) {
        break;
      }
      bytes += n;
      b.appendCodePoint(c);
    }
    while (b.length() > 0 && badLeading.indexOf(b.charAt(0)) >= 0) {
      b.deleteCharAt(0);
    }
    return b.length() == 0 ? fallback : b.toString();
  }

}
