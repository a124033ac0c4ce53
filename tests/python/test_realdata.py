# SPDX-License-Identifier: MIT
"""Real TDX quotes and SEV-SNP reports published by other projects, verified through
ebcc_report_verify() with the verdicts their README gives (../shared/realdata, read in place,
padded files as published). Every check runs at a verification time inside the windows of the
certificates involved, never at today's date. Exits 77 (skipped) without the samples.
"""
import os
import pathlib
import re
import sys
import unittest

import ebcc

REALDATA = pathlib.Path(os.environ.get("EBCC_REALDATA", "/nonexistent"))
if not (REALDATA / "tdx").is_dir() or not (REALDATA / "snp").is_dir():
    print(f"SKIP: no real evidence samples at {REALDATA}", file=sys.stderr)
    sys.exit(77)

TDX, SNP = REALDATA / "tdx", REALDATA / "snp"
# Inside every TDX sample's PCK chain (the youngest PCK certificate is from 2026-01-27).
TDX_AT = "2026-06-01T00:00:00Z"
PEM = re.compile(r"-----BEGIN CERTIFICATE-----.*?-----END CERTIFICATE-----\n?", re.S)

# The README's TDX table: file, MRTD, REPORTDATA (prefix), debug TD.
TDX_SAMPLES = {
    "T2": ("gotdx_cos-113-tdx-quote.dat", "dae67181d3d65e073ad8f95b7907d5e927bfe9761c9ff3e9b89734a45d8954dba41394c7717cb2735396c1d04231f94a", "0000000000000000", False),
    "T3": ("gotdxqpl_quote.bin", "b65ea009e424e6f761fdd3d7c8962439453b37ecdf62da04f7bc5d327686bb8bafc8a5d24a9c31cee60e4aba87c2f71b", "48656c6c6f206672", False),
    "T4": ("trustee_tdx_quote_4.dat", "705ee9381b8633a9fbe532b52345e8433343d2868959f57889d84ca377c395b689cac1599ccea1b7d420483a9ce5f031", "7c71fe2c86eff65a", True),
    "T5": ("trustee_tdx_quote_6.dat", "21e8dead92d6c69d7cbba79816686c03a48485c7df0c11f6f04792d5e1d378f6b8c46615ba6946adccac6becffbb1e88", "26cae1c77185617f", False),
    "T7": ("dcapqvl_tdx_quote.bin", "91eb2b44d141d4ece09f0c75c2c53d247a3c68edd7fafe8a3520c942a604a407de03ae6dc5f87f27428b2538873118b7", "9a9d48e7f6799642", False),
    "T19": ("gotdx_quote_v5_sample.dat", "7348651a34b2d2d3462822e3a750ec6110125f36757c78480bbfc69cc0d21fb001a1ced3ee19747dda8f750c3bc8f876", "945eaacf5abc1f71", False),
}


def chain(name):
    """(the first certificate, the last one) of a PEM chain file: ASK or ASVK, then ARK."""
    certs = PEM.findall((SNP / name).read_text())
    return certs[0], certs[-1]


class RealEvidenceCase(unittest.TestCase):
    def setUp(self):
        self.ctx = ebcc.Context()

    def tearDown(self):
        self.ctx.close()

    def verify(self, data, options, at):
        return ebcc.report_verify(self.ctx, "tsm", data,
                                  {"verification_time": at, "backend_options": {"tsm": options}})

    def refused(self, data, options, at, *fragments):
        with self.assertRaises(ebcc.EbccError) as e:
            self.verify(data, options, at)
        self.assertEqual(e.exception.name, "EBCC_ERR_VERIFY")
        for fragment in fragments:
            self.assertIn(fragment, e.exception.message)
        return e.exception.message


class TdxTest(RealEvidenceCase):
    def setUp(self):
        super().setUp()
        self.root = {"tdx_root_ca": (TDX / "intel_sgx_root_ca.pem").read_text()}

    def test_verdicts_as_published(self):
        for tag, (name, mrtd, report_data, debug) in TDX_SAMPLES.items():
            data = (TDX / name).read_bytes()
            with self.subTest(tag):
                if debug:
                    self.refused(data, self.root, TDX_AT, "DEBUG")
                    claims = self.verify(data, dict(self.root, allow_debug=True), TDX_AT)
                else:
                    claims = self.verify(data, self.root, TDX_AT)
                self.assertTrue(claims["verified"])
                self.assertEqual(claims["measurement"], mrtd)
                self.assertTrue(claims["report_data"].startswith(report_data))
                self.assertEqual(claims["debug"], debug)

    def test_padding_as_published(self):
        # T2 is an 8000-byte buffer (3065 zero bytes after the quote), T7 has 70: both verify
        # above; a non-zero byte in the padding is refused, naming the bytes that follow.
        data = bytearray((TDX / "dcapqvl_tdx_quote.bin").read_bytes())
        self.assertEqual(len(data), 5006)
        data[-1] = 1
        self.refused(bytes(data), self.root, TDX_AT, "70")

    def test_one_bit_flips_are_refused(self):
        name, mrtd, _, _ = TDX_SAMPLES["T7"]
        original = (TDX / name).read_bytes()
        report_data = bytes.fromhex(self.verify(original, self.root, TDX_AT)["report_data"])
        body = 48  # a v4 quote: the TD report follows the 48-byte header
        places = {
            "MRTD": original.index(bytes.fromhex(mrtd)),
            "REPORTDATA": original.index(report_data),
            "TEE_TCB_SVN": body,
            "quote signature": body + 584 + 4,
            "QE report": body + 584 + 4 + 128 + 6 + 16,
        }
        for what, offset in places.items():
            with self.subTest(what):
                data = bytearray(original)
                data[offset] ^= 0x01
                self.refused(bytes(data), self.root, TDX_AT)

    def test_certificates_are_checked_at_the_verification_time(self):
        data = (TDX / TDX_SAMPLES["T19"][0]).read_bytes()
        # Its PCK certificate is from 2026-01-27.
        self.refused(data, self.root, "2025-06-01T00:00:00Z", "not yet valid")

    def test_another_root_is_refused(self):
        data = (TDX / TDX_SAMPLES["T7"][0]).read_bytes()
        _, ark = chain("amd_ask_ark_milan.pem")
        self.refused(data, {"tdx_root_ca": ark}, TDX_AT, "trust anchor")


class SnpTest(RealEvidenceCase):
    def options(self, chain_file, signer, **extra):
        ask, ark = chain(chain_file)
        return dict({"snp_ark": ark, "snp_certs": ask + signer}, **extra)

    def signer(self, name):
        """A DER certificate as PEM, as the policy carries certificates."""
        import base64
        der = (SNP / name).read_bytes()
        b64 = base64.encodebytes(der).decode().replace("\n", "")
        lines = [b64[i:i + 64] for i in range(0, len(b64), 64)]
        return "-----BEGIN CERTIFICATE-----\n" + "\n".join(lines) + "\n-----END CERTIFICATE-----\n"

    def test_s1_debug_guest_milan(self):
        data = (SNP / "gosev_attestation.bin").read_bytes()
        options = self.options("amd_ask_ark_milan.pem", self.signer("gosev_vcek.der"))
        self.refused(data, options, "2024-06-01T00:00:00Z", "DEBUG")
        claims = self.verify(data, dict(options, allow_debug=True), "2024-06-01T00:00:00Z")
        self.assertEqual(claims["measurement"], "b07af9620f3b839b47996422ddec6058338951d984e312115131ea82705eaf5b6bdf8a9ece31a5a608eb0cf2e4872b01")
        self.assertTrue(claims["report_data"].startswith("0102030405000000"))
        self.assertTrue(claims["debug"])
        # The wrong generation: a Milan report against the Genoa chain.
        genoa = self.options("amd_ask_ark_genoa.pem", self.signer("gosev_vcek.der"), allow_debug=True)
        self.refused(data, genoa, "2024-06-01T00:00:00Z")

    def test_s12_genoa(self):
        data = (SNP / "oak_genoa_report.derived.bin").read_bytes()
        options = self.options("amd_ask_ark_genoa.pem", self.signer("oak_genoa_vcek.derived.der"))
        claims = self.verify(data, options, "2025-09-01T00:00:00Z")
        self.assertEqual(claims["measurement"], "c57729018b0a6fb90dc17bb138b0aa35e4401004283ff4a2c24d3739ff3750f52384370e77b7032862a08c440a9bc4dc")
        self.assertTrue(claims["report_data"].startswith("8100555af0ad8e75"))
        self.assertFalse(claims["debug"])
        for what, offset in {"MEASUREMENT": 0x90, "REPORT_DATA": 0x50, "signature": 0x2A0}.items():
            with self.subTest(what):
                flipped = bytearray(data)
                flipped[offset] ^= 0x01
                self.refused(bytes(flipped), options, "2025-09-01T00:00:00Z")

    def test_s15_vlek_only_inside_its_validity(self):
        data = (SNP / "trustee_test-vlek-report.bin").read_bytes()
        options = self.options("amd_ask_ark_milan_vlek.pem", self.signer("trustee_test-vlek.der"))
        claims = self.verify(data, options, "2025-06-01T00:00:00Z")
        self.assertEqual(claims["measurement"], "8922ebbdd00ec2c541f36a6e7a82a8773a7accb451ed67bc94e740dbe92c93c4e8c9af857f5ceeb5a493df2a570d7bf0")
        self.assertTrue(claims["report_data"].startswith("819770b7e6ea6df8"))
        self.refused(data, options, "2026-06-01T00:00:00Z", "expired")

    def test_tcb_against_the_certificates(self):
        # Each signer certificate certifies the TCB its report shows as REPORTED_TCB; the
        # claims carry what it says (README: S1 bl=2 snp=5 ucode=68, S12 bl=10 snp=25 ucode=84,
        # S15 bl=4 snp=24 ucode=217).
        cases = {
            "S1": ("gosev_attestation.bin", "amd_ask_ark_milan.pem", "gosev_vcek.der",
                   "2024-06-01T00:00:00Z", "Milan-B0", (2, 0, 5, 68)),
            "S12": ("oak_genoa_report.derived.bin", "amd_ask_ark_genoa.pem",
                    "oak_genoa_vcek.derived.der", "2025-09-01T00:00:00Z", "Genoa", (10, 0, 25, 84)),
            "S15": ("trustee_test-vlek-report.bin", "amd_ask_ark_milan_vlek.pem",
                    "trustee_test-vlek.der", "2025-06-01T00:00:00Z", "Milan", (4, 0, 24, 217)),
        }
        for tag, (report, chain_file, signer, at, product, tcb) in cases.items():
            with self.subTest(tag):
                data = (SNP / report).read_bytes()
                options = self.options(chain_file, self.signer(signer), allow_debug=True)
                claims = self.verify(data, options, at)
                self.assertTrue(claims["tcb_status"].startswith("REPORTED_TCB is the TCB"))
                e = claims["endorsement"]
                self.assertEqual(e["product"], product)
                self.assertEqual((e["tcb"]["bootloader"], e["tcb"]["tee"], e["tcb"]["snp"],
                                  e["tcb"]["microcode"]), tcb)
                if tag == "S15":
                    self.assertEqual(e["csp_id"], "CN=cc-us-east-2.amazonaws.com")
                    self.assertNotIn("hwid", e)
                else:
                    self.assertEqual(e["hwid"], "equals CHIP_ID")
                self.assertFalse(any("REPORTED_TCB against" in n for n in claims["not_verified"]))
                # A floor at the report's TCB passes; one patch level above is refused.
                bl, tee, snp, ucode = tcb
                floor = {"bootloader": bl, "tee": tee, "snp": snp, "microcode": ucode}
                self.verify(data, dict(options, snp_min_tcb=floor), at)
                self.refused(data, dict(options, snp_min_tcb=dict(floor, snp=snp + 1)), at,
                             "is below backend_options.tsm.snp_min_tcb")
        # A version 2 report (S1) has no CPUID: the product is its VCEK's.
        data = (SNP / "gosev_attestation.bin").read_bytes()
        options = self.options("amd_ask_ark_milan.pem", self.signer("gosev_vcek.der"),
                               allow_debug=True)
        self.assertEqual(self.verify(data, options, "2024-06-01T00:00:00Z")["product"], "Milan")

    def test_guest_policy_bits(self):
        # S12's POLICY is 0x30000: SMT allowed, no migration agent.
        data = (SNP / "oak_genoa_report.derived.bin").read_bytes()
        options = self.options("amd_ask_ark_genoa.pem", self.signer("oak_genoa_vcek.derived.der"))
        claims = self.verify(data, options, "2025-09-01T00:00:00Z")
        self.assertEqual(claims["guest_policy_flags"],
                         {"smt": True, "migrate_ma": False, "debug": False, "single_socket": False})
        self.refused(data, dict(options, snp_allow_smt=False), "2025-09-01T00:00:00Z",
                     "POLICY.SMT is set")

    def test_invalid_vceks_are_refused(self):
        data = (SNP / "gosev_attestation.bin").read_bytes()
        for bad in ("trustee_test-vcek-invalid-legacy.der", "trustee_test-vcek-invalid-new.der"):
            with self.subTest(bad):
                options = self.options("amd_ask_ark_milan.pem", self.signer(bad), allow_debug=True)
                self.refused(data, options, "2024-06-01T00:00:00Z")


@unittest.skipUnless(os.environ.get("EBCC_RUNTIME"), "ebcc-runtime not built")
class VerifyReportCommandTest(unittest.TestCase):
    """ebcc-runtime verify-report: claims on stdout and exit 0, or the reason and exit 1."""

    def run_runtime(self, *args):
        import json
        import subprocess
        import tempfile
        with tempfile.NamedTemporaryFile("w", suffix=".json") as policy:
            json.dump({"backend_options": {"tsm": {
                "tdx_root_ca": (TDX / "intel_sgx_root_ca.pem").read_text(),
                "snp_ark": chain("amd_ask_ark_milan_vlek.pem")[1]}}}, policy)
            policy.flush()
            return subprocess.run([os.environ["EBCC_RUNTIME"], "verify-report", "--policy",
                                   policy.name] + [str(a) for a in args],
                                  capture_output=True, text=True, timeout=60)

    def test_tdx_quote_as_published(self):
        import json
        proc = self.run_runtime("--at", TDX_AT, TDX / TDX_SAMPLES["T7"][0])
        self.assertEqual(proc.returncode, 0, proc.stderr)
        self.assertEqual(json.loads(proc.stdout)["measurement"], TDX_SAMPLES["T7"][1])

    def test_vlek_with_its_certificates_and_time(self):
        ask = SNP / "amd_ask_ark_milan_vlek.pem"
        args = ["--certs", SNP / "trustee_test-vlek.der", "--certs", ask,
                SNP / "trustee_test-vlek-report.bin"]
        proc = self.run_runtime("--at", "2025-06-01T00:00:00Z", *args)
        self.assertEqual(proc.returncode, 0, proc.stderr)
        proc = self.run_runtime("--at", "2026-06-01T00:00:00Z", *args)
        self.assertEqual(proc.returncode, 1)
        self.assertEqual(proc.stdout, "")
        self.assertIn("expired", proc.stderr)
        self.assertEqual(len(proc.stderr.splitlines()), 1)


if __name__ == "__main__":
    unittest.main()
