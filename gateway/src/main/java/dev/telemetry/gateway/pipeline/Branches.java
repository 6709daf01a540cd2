package dev.telemetry.gateway.pipeline;

import dev.telemetry.gateway.otlp.Signal;
import dev.telemetry.gateway.processor.Processor;
import dev.telemetry.gateway.processor.sampling.Destination;
import dev.telemetry.gateway.processor.sampling.SamplingStage;
import dev.telemetry.gateway.routing.Action;
import dev.telemetry.gateway.routing.Route;
import dev.telemetry.gateway.routing.RouteMatcher;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Resolves routes to this pipeline's running components — exporter queues, the redaction profile, the sampler —
 * once per route and table; what a route leaves out comes from the pipeline config. Names were checked when the
 * table was validated, so a miss here is a bug.
 */
final class Branches {
  private final Signal signal;
  private final List<ExporterQueue> queues;
  private final SamplingStage sampler;
  private final Map<String, Processor> processors;
  private final Map<String, SamplingStage> samplers;
  private final Map<List<String>, Destination> destinations = new ConcurrentHashMap<>();
  private volatile Cache cache = new Cache(null);

  Branches(Signal signal, List<ExporterQueue> queues, SamplingStage sampler, Map<String, Processor> processors,
           Map<String, SamplingStage> samplers) {
    this.signal = signal;
    this.queues = queues;
    this.sampler = sampler;
    this.processors = Map.copyOf(processors);
    this.samplers = Map.copyOf(samplers);
  }

  /** Where a route's items go in this pipeline. */
  record Branch(List<ExporterQueue> queues, Processor redaction, SamplingStage sampler,
                Action.ElasticsearchTarget elasticsearch, Destination destination) {
  }

  private record Cache(RouteMatcher matcher, Map<Route, Branch> branches) {
    Cache(RouteMatcher matcher) {
      this(matcher, new ConcurrentHashMap<>());
    }
  }

  Branch of(RouteMatcher matcher, Route route) {
    Cache c = cache;
    if (c.matcher() != matcher) {
      c = new Cache(matcher);
      cache = c;
    }
    return c.branches().computeIfAbsent(route, this::resolve);
  }

  private Branch resolve(Route route) {
    Action a = route.action();
    Destination destination;
    try {
      destination = destination(a.exporters());
    } catch (IllegalArgumentException e) {
      throw new IllegalStateException("route " + route.ruleId() + ": " + e.getMessage());
    }
    List<ExporterQueue> qs = destination.exporters() == null ? queues : queues(destination.exporters());
    Processor redaction = a.redaction() == null ? null : require(processors.get(a.redaction()), route, a.redaction());
    SamplingStage s = signal != Signal.TRACES ? null
        : a.sampling() == null ? sampler : require(samplers.get(a.sampling()), route, a.sampling());
    return new Branch(qs, redaction, s, a.elasticsearch(), destination);
  }

  /**
   * The destination for kept spans going to these exporters (null: the pipeline's own), one object per list so the
   * sampler can group by identity. Fails when an exporter has no queue in this pipeline.
   */
  Destination destination(List<String> exporters) {
    if (exporters == null) {
      return Destination.DEFAULT;
    }
    return destinations.computeIfAbsent(List.copyOf(exporters), names -> {
      List<ExporterQueue> qs = queues(names);
      return new Destination(names, new QueueFanOut(qs));
    });
  }

  private List<ExporterQueue> queues(List<String> names) {
    return names.stream().map(name -> queues.stream().filter(q -> q.exporterName().equals(name)).findFirst()
        .orElseThrow(() -> new IllegalArgumentException("exporter " + name + " has no " + signal.id() + " queue")))
        .toList();
  }

  private static <T> T require(T component, Route route, String name) {
    if (component == null) {
      throw new IllegalStateException("route " + route.ruleId() + ": no component named " + name);
    }
    return component;
  }
}
