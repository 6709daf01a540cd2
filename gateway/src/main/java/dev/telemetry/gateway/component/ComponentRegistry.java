package dev.telemetry.gateway.component;

import dev.telemetry.gateway.config.ConnectorConfig;
import dev.telemetry.gateway.connector.Connector;

import dev.telemetry.gateway.config.ComponentReader;
import dev.telemetry.gateway.config.ComponentTypes;
import dev.telemetry.gateway.config.ConfigLoader;
import dev.telemetry.gateway.config.ExporterConfig;
import dev.telemetry.gateway.config.ProcessorConfig;
import dev.telemetry.gateway.config.ReceiverConfig;
import dev.telemetry.gateway.exporter.Exporter;
import dev.telemetry.gateway.otlp.Signal;
import dev.telemetry.gateway.pipeline.TelemetryConsumer;
import dev.telemetry.gateway.processor.Processor;
import dev.telemetry.gateway.processor.sampling.TailSampler;
import dev.telemetry.gateway.receiver.Receiver;
import java.util.HashMap;
import java.util.Map;
import java.util.Set;
import java.util.function.Function;

/**
 * Every component type by kind and name: how its config is read and how it is built. The loader validates through
 * {@link #configTypes()}, the gateway builds through the {@code create…} methods; a config record is handed back to
 * the factory of the type that read it, so the casts below hold by construction.
 */
public final class ComponentRegistry {
  private final ComponentTypes types;
  private final Map<String, ReceiverFactory<ReceiverConfig>> receivers;
  private final Map<String, ProcessorFactory<ProcessorConfig>> processors;
  private final Map<String, SamplerFactory<ProcessorConfig>> samplers;
  private final Map<String, ExporterFactory<ExporterConfig>> exporters;
  private final Map<String, ConnectorFactory<ConnectorConfig>> connectors;

  private ComponentRegistry(Builder b) {
    this.types = b.types.build();
    this.receivers = Map.copyOf(b.receivers);
    this.processors = Map.copyOf(b.processors);
    this.samplers = Map.copyOf(b.samplers);
    this.exporters = Map.copyOf(b.exporters);
    this.connectors = Map.copyOf(b.connectors);
  }

  public static Builder builder() {
    return new Builder();
  }

  /** The readers, for the config loader. */
  public ComponentTypes configTypes() {
    return types;
  }

  /** A loader of gateway configs that may name these components. */
  public ConfigLoader configLoader(Function<String, String> env) {
    return new ConfigLoader(env, types);
  }

  public Receiver createReceiver(BuildContext context, ReceiverConfig config, TelemetryConsumer consumer) {
    return factory(receivers, config.type()).create(context, config, consumer);
  }

  /** Whether processors of this type are sampling stages rather than stateless processors. */
  public boolean isSampler(ProcessorConfig config) {
    return samplers.containsKey(config.type());
  }

  public Processor createProcessor(BuildContext context, ProcessorConfig config) {
    return factory(processors, config.type()).create(context, config);
  }

  public TailSampler createSampler(BuildContext context, ProcessorConfig config) {
    return factory(samplers, config.type()).create(context, config);
  }

  public Exporter createExporter(BuildContext context, ExporterConfig config, Signal signal) {
    return factory(exporters, config.type()).create(context, config, signal);
  }

  public Connector createConnector(BuildContext context, ConnectorConfig config) {
    return factory(connectors, config.type()).create(context, config);
  }

  private static <F> F factory(Map<String, F> factories, String type) {
    F f = factories.get(type);
    if (f == null) {
      throw new IllegalArgumentException("no component registered for type \"" + type + "\"");
    }
    return f;
  }

  /** Registers component types, one call each. */
  public static final class Builder {
    private final ComponentTypes.Builder types = ComponentTypes.builder();
    private final Map<String, ReceiverFactory<ReceiverConfig>> receivers = new HashMap<>();
    private final Map<String, ProcessorFactory<ProcessorConfig>> processors = new HashMap<>();
    private final Map<String, SamplerFactory<ProcessorConfig>> samplers = new HashMap<>();
    private final Map<String, ExporterFactory<ExporterConfig>> exporters = new HashMap<>();
    private final Map<String, ConnectorFactory<ConnectorConfig>> connectors = new HashMap<>();

    /**
     * A connector from the {@code from} pipelines (where it is an exporter; listed in at least one) to the {@code to}
     * one (a receiver).
     */
    @SuppressWarnings("unchecked")
    public <C extends ConnectorConfig> Builder connector(String type, Set<Signal> from, Signal to,
                                                         ComponentReader<C> reader, ConnectorFactory<C> factory) {
      types.connector(type, reader, from, to);
      connectors.put(type, (ConnectorFactory<ConnectorConfig>) factory);
      return this;
    }

    @SuppressWarnings("unchecked")
    public <C extends ReceiverConfig> Builder receiver(String type, ComponentReader<C> reader,
                                                       ReceiverFactory<C> factory) {
      types.receiver(type, reader);
      receivers.put(type, (ReceiverFactory<ReceiverConfig>) factory);
      return this;
    }

    @SuppressWarnings("unchecked")
    public <C extends ProcessorConfig> Builder processor(String type, ComponentReader<C> reader,
                                                         ProcessorFactory<C> factory) {
      types.processor(type, reader);
      processors.put(type, (ProcessorFactory<ProcessorConfig>) factory);
      return this;
    }

    @SuppressWarnings("unchecked")
    public <C extends ProcessorConfig> Builder sampler(String type, ComponentReader<C> reader,
                                                       SamplerFactory<C> factory) {
      types.sampler(type, reader);
      samplers.put(type, (SamplerFactory<ProcessorConfig>) factory);
      return this;
    }

    @SuppressWarnings("unchecked")
    public <C extends ExporterConfig> Builder exporter(String type, ComponentReader<C> reader,
                                                       ExporterFactory<C> factory) {
      return exporter(type, java.util.EnumSet.allOf(Signal.class), reader, factory);
    }

    /** An exporter that takes only {@code signals}. */
    @SuppressWarnings("unchecked")
    public <C extends ExporterConfig> Builder exporter(String type, java.util.Set<Signal> signals,
                                                       ComponentReader<C> reader, ExporterFactory<C> factory) {
      types.exporter(type, reader, signals);
      exporters.put(type, (ExporterFactory<ExporterConfig>) factory);
      return this;
    }

    public ComponentRegistry build() {
      return new ComponentRegistry(this);
    }
  }
}
