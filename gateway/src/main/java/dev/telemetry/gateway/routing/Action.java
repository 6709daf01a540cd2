package dev.telemetry.gateway.routing;

import java.util.List;

/**
 * What happens to the items a rule matched. {@code exporters == null} means "the signal's default exporters";
 * {@code sampling}/{@code redaction} name processors of the gateway config (null: the pipeline's own, if any).
 */
public record Action(boolean drop, List<String> exporters, ElasticsearchTarget elasticsearch, String sampling,
                     String redaction) {
  public static final Action PIPELINE_DEFAULT = new Action(false, null, null, null, null);
  public static final Action DROP = new Action(true, null, null, null, null);

  public Action {
    exporters = exporters == null ? null : List.copyOf(exporters);
    if (drop && (exporters != null || elasticsearch != null || sampling != null || redaction != null)) {
      throw new IllegalArgumentException("a drop action takes nothing else");
    }
  }

  /** Where Elasticsearch writes the logs: a data stream {@code logs-<dataset>-<namespace>}, or a named index. */
  public record ElasticsearchTarget(String dataset, String namespace, String index) {
    public ElasticsearchTarget {
      if (index != null && (dataset != null || namespace != null)) {
        throw new IllegalArgumentException("set either index or dataset/namespace");
      }
      if (index == null && dataset == null && namespace == null) {
        throw new IllegalArgumentException("set dataset and/or namespace, or index");
      }
    }
  }
}
