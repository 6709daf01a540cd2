package dev.telemetry.gateway.processor.enrichment;

import dev.telemetry.gateway.config.ConfigNode;
import dev.telemetry.gateway.config.ProcessorConfig;
import java.util.ArrayList;

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

  /** Reads a processor of type {@value #TYPE}. */
  public static EnrichmentProcessorConfig read(String name, ConfigNode node) {
    int before = node.problems();
    node.allowOnly("type", "resource", "items", "host", "lookups");
    AttributeActions resource = actions(node.object("resource"));
    AttributeActions items = actions(node.object("items"));
    boolean host = node.bool("host", false);
    List<Lookup> lookups = new ArrayList<>();
    for (ConfigNode l : node.objectList("lookups")) {
      l.allowOnly("file", "key", "target", "overwrite", "reload_interval");
      String file = l.string("file", null);
      String key = l.string("key", null);
      Target target = l.enumValue("target", Target.class, Target.RESOURCE);
      boolean overwrite = l.bool("overwrite", false);
      Duration reload = l.duration("reload_interval", DEFAULT_RELOAD_INTERVAL, Duration.ofMillis(100));
      if (file != null && key != null) {
        Lookup lookup = l.build(null, () -> new Lookup(Path.of(file), key, target, overwrite, reload));
        if (lookup != null) {
          lookups.add(lookup);
        }
      }
    }
    if (node.problems() > before) {
      return null;
    }
    return node.build(null, () -> new EnrichmentProcessorConfig(name, resource, items, host, lookups));
  }

  private static AttributeActions actions(ConfigNode node) {
    node.allowOnly("insert", "upsert", "delete");
    return new AttributeActions(node.stringMap("insert"), node.stringMap("upsert"), node.stringList("delete",
        List.of()));
  }
}
