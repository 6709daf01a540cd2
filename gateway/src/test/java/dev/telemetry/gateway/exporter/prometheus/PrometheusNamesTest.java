package dev.telemetry.gateway.exporter.prometheus;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class PrometheusNamesTest {

  @ParameterizedTest
  @CsvSource(delimiter = '|', value = {
      // name | unit | counter | gauge | expected
      "http.server.request.duration | s | false | false | http_server_request_duration_seconds",
      "orders.placed | {order} | true | false | orders_placed_total",
      "system.network.io | By | true | false | system_network_io_bytes_total",
      "throughput | By/s | false | true | throughput_bytes_per_second",
      "cpu.utilization | 1 | false | true | cpu_utilization_ratio",
      "requests | 1 | true | false | requests_total",
      "requests_total | '' | true | false | requests_total",
      "latency_seconds | s | false | false | latency_seconds",
      "disk.free | MiBy | false | true | disk_free_mebibytes",
      "speed | m/s | false | true | speed_meters_per_second",
      "temp | Cel | false | true | temp_celsius",
      "2xx.count | '' | true | false | _2xx_count_total",
      "weird..name--x | '' | false | true | weird_name_x",
      "ns:metric | ms | false | true | ns:metric_milliseconds",
      "custom | widgets | false | true | custom_widgets",
  })
  void metricNamesWithSuffixes(String name, String unit, boolean counter, boolean gauge, String expected) {
    assertThat(PrometheusNames.metricName(name, unit, counter, gauge, true)).isEqualTo(expected);
  }

  @ParameterizedTest
  @CsvSource({"orders.placed,orders_placed", "a-b.c,a_b_c"})
  void noSuffixesWhenSwitchedOff(String name, String expected) {
    assertThat(PrometheusNames.metricName(name, "s", true, false, false)).isEqualTo(expected);
  }

  @ParameterizedTest
  @CsvSource({"service.name,service_name", "http.request.method,http_request_method", "1st,key_1st",
      "_private,key_private", "__reserved,__reserved", "ünïcode,key_n_code", "a..b,a__b"})
  void labelNames(String key, String expected) {
    assertThat(PrometheusNames.labelName(key)).isEqualTo(expected);
  }

  @ParameterizedTest
  @CsvSource({"5,5", "0.25,0.25", "1000000,1e+06", "100000,100000", "0.0001,0.0001", "0.00001,1e-05",
      "2.5e-3,0.0025", "123456789,1.23456789e+08", "-7.5,-7.5", "0,0"})
  void floatsAreFormattedLikeGo(double v, String expected) {
    assertThat(PrometheusNames.formatFloat(v)).isEqualTo(expected);
  }

  @ParameterizedTest
  @CsvSource({"Infinity,+Inf", "-Infinity,-Inf", "NaN,NaN"})
  void specialFloats(String v, String expected) {
    assertThat(PrometheusNames.formatFloat(Double.parseDouble(v))).isEqualTo(expected);
  }
}
