package dev.telemetry.gateway.routing;

import com.code_intelligence.jazzer.junit.FuzzTest;
import java.nio.charset.StandardCharsets;

/**
 * The routing-table parser on arbitrary text: a table or a RoutingTableException listing its problems — never
 * another exception. A table that parses parses again from its stored source (what the history and the admin API keep).
 */
class RoutingTableFuzzTest {

  @FuzzTest(maxDuration = "5m")
  void parse(byte[] input) {
    String text = new String(input, StandardCharsets.UTF_8);
    RoutingTable table;
    try {
      table = RoutingTableParser.parse(text, RoutingTableParserTest.CATALOG);
    } catch (RoutingTableException expected) {
      if (expected.problems().isEmpty()) {
        throw new AssertionError("refused without a problem");
      }
      return;
    }
    try {
      RoutingTableParser.parse(table.source().encode(), RoutingTableParserTest.CATALOG);
    } catch (RoutingTableException e) {
      throw new AssertionError("a table's stored source does not parse again: " + e.problems(), e);
    }
  }
}
