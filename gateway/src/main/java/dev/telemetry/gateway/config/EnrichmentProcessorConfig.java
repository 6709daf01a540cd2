package dev.telemetry.gateway.config;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;

/**
 * The enrichment processor: static attribute changes on the resource and on items (spans, log records, metric data
 * points), host facts, and lookup tables keyed by an attribute. Values may use {@code ${env:VAR}} like any config
 * string, which is how environment values are brought in.
 */
public record EnrichmentProcessorConfig(String name, AttributeActions resource, AttributeActions items,
                                        boolean hostFacts, List<Lookup> lookups) implements ProcessorConfig {
  public static final String TYPE = "enrichment";
  public static final Duration DEFAULT_RELOAD_INTERVAL = Duration.ofSeconds(10);

  /** insert: only when absent; upsert: always; delete: remove. Applied in that order: delete, upsert, insert. */
  public record AttributeActions(Map<String, String> insert, Map<String, String> upsert, List<String> delete) {
    public static final AttributeActions NONE = new AttributeActions(Map.of(), Map.of(), List.of());

    public AttributeActions {
      insert = Map.copyOf(insert);
      upsert = Map.copyOf(upsert);
      delete = List.copyOf(delete);
    }

    public boolean isEmpty() {
      return insert.isEmpty() && upsert.isEmpty() && delete.isEmpty();
    }
  }

  /** Where a lookup writes: the resource's attributes or each item's. */
  public enum Target { RESOURCE, ITEMS }

  /**
   * A table loaded from a CSV file (header row; the {@code key} column names the attribute matched) or a JSON file
   * (an object of key → object of attributes), re-read when its modification time changes. Found attributes are
   * inserted (existing ones win) unless {@code overwrite}.
   */
  public record Lookup(Path file, String key, Target target, boolean overwrite, Duration reloadInterval) {
    public Lookup {
      if (key == null || key.isEmpty()) {
        throw new IllegalArgumentException("lookup key must not be empty");
      }
      String f = file.getFileName().toString();
      if (!f.endsWith(".csv") && !f.endsWith(".json")) {
        throw new IllegalArgumentException("lookup file must end in .csv or .json: " + file);
      }
    }
  }

  public EnrichmentProcessorConfig {
    lookups = List.copyOf(lookups);
  }

  @Override
  public String type() {
    return TYPE;
  }
}
