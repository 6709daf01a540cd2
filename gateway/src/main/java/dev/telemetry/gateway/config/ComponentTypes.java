package dev.telemetry.gateway.config;

import dev.telemetry.gateway.otlp.Signal;
import java.util.EnumSet;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * The component types the loader knows, by kind and type name: the reader of each one's config and the facts the
 * cross-checks need (which signals it takes, whether it must stand last). Facts are per type, not per record, so a
 * pipeline's misuse of a component is reported even when that component's own config has problems too.
 */
public final class ComponentTypes {
  /** How to read one type, which signals' pipelines may list it, and why it must come last (null: it need not). */
  record Type<C>(String name, ComponentReader<? extends C> reader, Set<Signal> signals, String mustComeLast) {
  }

  /**
   * A connector type: read like the others; {@code from} the pipelines it may export from (at least one of them),
   * {@code to} the one it feeds.
   */
  record ConnectorType(String name, ComponentReader<? extends ConnectorConfig> reader, Set<Signal> from, Signal to) {
  }

  /** What a sampling stage answers when it is not the last processor. */
  static final String HOLDS_TRACES = "it holds spans and releases whole traces to the exporters";

  private final Map<String, Type<ReceiverConfig>> receivers;
  private final Map<String, Type<ProcessorConfig>> processors;
  private final Map<String, Type<ExporterConfig>> exporters;
  private final Map<String, ConnectorType> connectors;

  private ComponentTypes(Builder b) {
    this.connectors = Map.copyOf(b.connectors);
    this.receivers = Map.copyOf(b.receivers);
    this.processors = Map.copyOf(b.processors);
    this.exporters = Map.copyOf(b.exporters);
  }

  public static Builder builder() {
    return new Builder();
  }

  Map<String, Type<ReceiverConfig>> receivers() {
    return receivers;
  }

  Map<String, Type<ProcessorConfig>> processors() {
    return processors;
  }

  Map<String, Type<ExporterConfig>> exporters() {
    return exporters;
  }

  Map<String, ConnectorType> connectors() {
    return connectors;
  }

  /** The known type names of a kind, sorted (for error messages). */
  static Set<String> names(Map<String, ?> types) {
    return new TreeSet<>(types.keySet());
  }

  /** Collects types; a type name registered twice within a kind is a programming error. */
  public static final class Builder {
    private final Map<String, Type<ReceiverConfig>> receivers = new LinkedHashMap<>();
    private final Map<String, Type<ProcessorConfig>> processors = new LinkedHashMap<>();
    private final Map<String, Type<ExporterConfig>> exporters = new LinkedHashMap<>();
    private final Map<String, ConnectorType> connectors = new LinkedHashMap<>();

    /** A connector from signals' pipelines to another's. */
    public Builder connector(String type, ComponentReader<? extends ConnectorConfig> reader, Set<Signal> from,
                             Signal to) {
      if (connectors.put(type, new ConnectorType(type, reader, Set.copyOf(from), to)) != null) {
        throw new IllegalStateException("connector type \"" + type + "\" registered twice");
      }
      return this;
    }

    public Builder receiver(String type, ComponentReader<? extends ReceiverConfig> reader) {
      put(receivers, type, new Type<>(type, reader, EnumSet.allOf(Signal.class), null));
      return this;
    }

    /** A processor that transforms requests in place, in any signal's pipeline. */
    public Builder processor(String type, ComponentReader<? extends ProcessorConfig> reader) {
      put(processors, type, new Type<>(type, reader, EnumSet.allOf(Signal.class), null));
      return this;
    }

    /** A sampling stage: traces only, last in its pipeline. */
    public Builder sampler(String type, ComponentReader<? extends ProcessorConfig> reader) {
      put(processors, type, new Type<>(type, reader, EnumSet.of(Signal.TRACES), HOLDS_TRACES));
      return this;
    }

    /** An exporter for the given signals. */
    public Builder exporter(String type, ComponentReader<? extends ExporterConfig> reader, Set<Signal> signals) {
      put(exporters, type, new Type<>(type, reader, Set.copyOf(signals), null));
      return this;
    }

    private static <R> void put(Map<String, R> map, String type, R entry) {
      if (map.putIfAbsent(type, entry) != null) {
        throw new IllegalStateException("component type \"" + type + "\" is registered twice");
      }
    }

    public ComponentTypes build() {
      return new ComponentTypes(this);
    }
  }
}
