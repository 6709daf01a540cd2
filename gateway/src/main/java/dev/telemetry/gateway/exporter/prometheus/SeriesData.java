package dev.telemetry.gateway.exporter.prometheus;

import dev.telemetry.proto.prometheus.Exemplar;
import dev.telemetry.proto.prometheus.Histogram;
import dev.telemetry.proto.prometheus.Sample;
import dev.telemetry.proto.prometheus.TimeSeries;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

/** The samples of one series gathered from a batch; becomes one {@link TimeSeries} with samples in time order. */
final class SeriesData {
  final Labels labels;
  final List<Sample> samples = new ArrayList<>(1);
  List<Histogram> histograms;
  List<Exemplar> exemplars;
  /** OTLP data points this series stands for (so rejected series can be reported in OTLP items). */
  int dataPoints;

  SeriesData(Labels labels) {
    this.labels = labels;
  }

  void addHistogram(Histogram h) {
    if (histograms == null) {
      histograms = new ArrayList<>(1);
    }
    histograms.add(h);
  }

  void addExemplar(Exemplar e) {
    if (exemplars == null) {
      exemplars = new ArrayList<>(1);
    }
    exemplars.add(e);
  }

  /** Samples, histograms and exemplars: the unit of Prometheus's per-request limits. */
  int weight() {
    return samples.size() + (histograms == null ? 0 : histograms.size()) + (exemplars == null ? 0 : exemplars.size());
  }

  TimeSeries toProto() {
    TimeSeries.Builder b = TimeSeries.newBuilder().addAllLabels(labels.toProto());
    if (samples.size() > 1) {
      samples.sort(Comparator.comparingLong(Sample::getTimestamp));
    }
    b.addAllSamples(samples);
    if (histograms != null) {
      histograms.sort(Comparator.comparingLong(Histogram::getTimestamp));
      b.addAllHistograms(histograms);
    }
    if (exemplars != null) {
      exemplars.sort(Comparator.comparingLong(Exemplar::getTimestamp));
      b.addAllExemplars(exemplars);
    }
    return b.build();
  }
}
