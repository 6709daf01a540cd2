package dev.telemetry.gateway.processor.redaction;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class DetectorsTest {

  static List<String> found(String detector, String text) {
    List<String> out = new ArrayList<>();
    Detectors.BUILT_IN.get(detector).scan(text, (s, e) -> out.add(text.substring(s, e)));
    return out;
  }

  @ParameterizedTest
  @CsvSource(delimiter = '|', value = {
      "email | contact jane.doe+tag@example.co.uk now | jane.doe+tag@example.co.uk",
      "credit_card | card 4111 1111 1111 1111 ok | 4111 1111 1111 1111",
      "credit_card | pan=5500-0000-0000-0004; | 5500-0000-0000-0004",
      "credit_card | amex 378282246310005 | 378282246310005",
      "iban | iban DE89 3704 0044 0532 0130 00 paid | DE89 3704 0044 0532 0130 00",
      "iban | GB82WEST12345698765432 | GB82WEST12345698765432",
      "us_ssn | ssn 123-45-6789 | 123-45-6789",
      "ipv4 | from 192.168.10.254:8080 | 192.168.10.254",
      "ipv6 | client 2001:db8::ff00:42:8329 connected | 2001:db8::ff00:42:8329",
      "ipv6 | mapped ::ffff:192.0.2.128 | ::ffff:192.0.2.128",
      "jwt | token eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjMifQ.abc-_DEF | eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjMifQ.abc-_DEF",
      "bearer_token | Authorization: Bearer abc.def-123_xyz= | Bearer abc.def-123_xyz=",
      "api_key | aws AKIAIOSFODNN7EXAMPLE key | AKIAIOSFODNN7EXAMPLE",
      "api_key | gh ghp_abcdefghijklmnopqrstuvwxyz0123456789 | ghp_abcdefghijklmnopqrstuvwxyz0123456789",
      "phone | call +1 415-555-2671 today | +1 415-555-2671",
      "phone | call (415) 555-2671 | (415) 555-2671",
      "phone | intl +441632960961 | +441632960961",
  })
  void truePositives(String detector, String text, String expected) {
    assertThat(found(detector, text)).containsExactly(expected);
  }

  @ParameterizedTest
  @CsvSource(delimiter = '|', value = {
      "credit_card | order 4111111111111112 shipped",      // 16 digits, fails Luhn: an order ID stays
      "credit_card | trace 12345678901234567890123",        // too long to be a card
      "iban | DE89 3704 0044 0532 0130 01",                 // bad checksum
      "us_ssn | build 000-12-3456",                         // area 000 is never issued
      "us_ssn | 666-12-3456",
      "us_ssn | 123-00-4567",
      "ipv4 | version 1.2.3.999",                           // octet > 255
      "ipv4 | 10.0.01.1",                                   // leading zero
      "ipv6 | time 12:30:45",                               // a clock, not an address
      "email | user@localhost",                             // no TLD
      "jwt | eyJhbGciOiJIUzI1NiJ9 alone",
      "api_key | AKIA-short",
      "phone | version 2026-11-22",
  })
  void falsePositivesStay(String detector, String text) {
    assertThat(found(detector, text)).isEmpty();
  }
}
