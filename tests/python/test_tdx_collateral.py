# SPDX-License-Identifier: MIT
"""A TDX quote's TCB against Intel's collateral (backend_options.tsm.tdx_collateral), with the
real quotes and collateral of ../shared/realdata/tdx read in place, through
ebcc_report_verify() and ebcc-runtime verify-report --collateral. Every check runs at a
verification time inside (or, for the negatives, just outside) the collateral's windows, never
at today's date. Exits 77 (skipped) without the samples.
"""
import copy
import json
import os
import pathlib
import subprocess
import sys
import tempfile
import unittest

import ebcc

REALDATA = pathlib.Path(os.environ.get("EBCC_REALDATA", "/nonexistent"))
if not (REALDATA / "tdx").is_dir():
    print(f"SKIP: no real evidence samples at {REALDATA}", file=sys.stderr)
    sys.exit(77)

TDX = REALDATA / "tdx"
# Phala dcap-qvl's quote and the collateral Intel PCS served for it: TCB info and QE identity
# from 2025-06-19 to 2025-07-19, the PCK CRL from 2025-06-19T10:00:35Z to 2025-07-19.
DCAP_QUOTE = TDX / "dcapqvl_tdx_quote.bin"
DCAP_AT = "2025-07-01T00:00:00Z"
# trustee's quote 4 (a debug TD, FMSPC 50806f000000) and go-tdx-guest's collateral for that
# FMSPC: TCB info from 2023-06-18T08:42:58Z, QE identity and PCK CRL until 2023-07-08.
T4_QUOTE = TDX / "trustee_tdx_quote_4.dat"
T4_AT = "2023-06-20T00:00:00Z"
ALL_BUT_REVOKED = ["UpToDate", "SWHardeningNeeded", "ConfigurationNeeded",
                   "ConfigurationAndSWHardeningNeeded", "OutOfDate",
                   "OutOfDateConfigurationNeeded"]


def dcap_collateral():
    return json.loads((TDX / "dcapqvl_tdx_quote_collateral.json").read_text())


def gotdx_collateral(tcb_info, qe_identity):
    """go-tdx-guest's PCS response bodies (signature inside) with edgeless's signing chains."""
    tcb_chain = (TDX / "gotdxqpl_tcbSigningChain.pem").read_text()
    return {
        "tcb_info": (TDX / tcb_info).read_text(), "tcb_info_signature": "",
        "tcb_info_issuer_chain": tcb_chain,
        "qe_identity": (TDX / qe_identity).read_text(), "qe_identity_signature": "",
        "qe_identity_issuer_chain": tcb_chain,
        "pck_crl": (TDX / "gotdx_pckcrl.der").read_bytes().hex(),
        "pck_crl_issuer_chain": (TDX / "gotdxqpl_pckCrlSigningChain.pem").read_text(),
        "root_ca_crl": (TDX / "gotdx_rootcrl.der").read_bytes().hex(),
    }


class CollateralCase(unittest.TestCase):
    def setUp(self):
        self.ctx = ebcc.Context()
        self.root = (TDX / "intel_sgx_root_ca.pem").read_text()

    def tearDown(self):
        self.ctx.close()

    def verify(self, quote, collateral, at, **options):
        tsm = dict({"tdx_root_ca": self.root, "tdx_collateral": collateral}, **options)
        return ebcc.report_verify(self.ctx, "tsm", quote.read_bytes(),
                                  {"verification_time": at, "backend_options": {"tsm": tsm}})

    def refused(self, quote, collateral, at, *fragments, **options):
        with self.assertRaises(ebcc.EbccError) as e:
            self.verify(quote, collateral, at, **options)
        self.assertEqual(e.exception.name, "EBCC_ERR_VERIFY")
        for fragment in fragments:
            self.assertIn(fragment, e.exception.message)
        return e.exception.message


class VerifiesTest(CollateralCase):
    def test_dcapqvl_quote_is_up_to_date(self):
        # By hand: the PCK certificate's SGX SVNs 3,3,2,2,4,1,0,5,0.. and PCESVN 11 reach the
        # first TCB level (2,2,2,2,3,1,0,5,0.., 11), TEE_TCB_SVN 06 01 03 its TDX SVNs 5,0,2;
        # the module TDX_01 at SVN 6 reaches isvsvn 4; the QE's ISVSVN 6 reaches 4: UpToDate.
        claims = self.verify(DCAP_QUOTE, dcap_collateral(), DCAP_AT)
        self.assertEqual(claims["tcb_status"], "UpToDate")
        self.assertEqual(claims["qe_tcb_status"], "UpToDate")
        self.assertEqual(claims["tcb_date"], "2024-03-13T00:00:00Z")
        self.assertEqual(claims["advisory_ids"], [])
        self.assertEqual(claims["fmspc"], "b0c06f000000")
        self.assertEqual(claims["tcb_evaluation_data_number"], 17)
        self.assertFalse(any("TCB status" in n or "CRL" in n for n in claims["not_verified"]))

    def test_without_collateral_the_tcb_is_not_verified(self):
        claims = ebcc.report_verify(self.ctx, "tsm", DCAP_QUOTE.read_bytes(), {
            "verification_time": DCAP_AT, "backend_options": {"tsm": {"tdx_root_ca": self.root}}})
        self.assertNotIn("tcb_status", claims)
        self.assertTrue(any("TCB status" in n for n in claims["not_verified"]))
        self.assertTrue(any("CRLs" in n for n in claims["not_verified"]))

    def test_pcs_response_bodies(self):
        # TCB info and QE identity as PCS serves them: the signed bytes are the inner object's.
        # By hand: the PCK's SVNs 5,5,13,2,3,1,0,3,0.., PCESVN 11 and TEE_TCB_SVN 03 00 05 reach
        # the first TCB level (5,5,2,2,3,1,0,3, 11; 3,0,5); the QE's ISVSVN 4 reaches 4.
        claims = self.verify(T4_QUOTE, gotdx_collateral("gotdx_tcbInfo.json",
                                                        "gotdx_qeIdentity.json"),
                             T4_AT, allow_debug=True)
        self.assertEqual(claims["tcb_status"], "UpToDate")
        self.assertEqual(claims["qe_tcb_status"], "UpToDate")
        self.assertEqual(claims["tcb_date"], "2023-02-15T00:00:00Z")
        self.assertEqual(claims["fmspc"], "50806f000000")
        self.assertEqual(claims["tcb_evaluation_data_number"], 15)

    def test_go_tdx_qpl_set_has_no_crls_of_its_time(self):
        # edgeless's TCB info and QE identity (2023-02-17..2023-03-19) are signed and current,
        # but no published root CA CRL is current then: refused, naming that CRL.
        collateral = gotdx_collateral("gotdxqpl_tcbinfo.json", "gotdxqpl_qeidentity.json")
        self.refused(TDX / "gotdxqpl_quote.bin", collateral, "2023-03-01T00:00:00Z",
                     "tdx_collateral.root_ca_crl: the CRL of \"Intel SGX Root CA\" is valid from "
                     "2023-04-03T10:22:51Z")


class RefusedTest(CollateralCase):
    def test_expired_and_not_yet_valid(self):
        self.refused(DCAP_QUOTE, dcap_collateral(), "2025-07-20T00:00:00Z",
                     "tdx_collateral.tcb_info is valid from 2025-06-19T10:16:03Z to "
                     "2025-07-19T10:16:03Z", "not at 2025-07-20T00:00:00Z")
        self.refused(DCAP_QUOTE, dcap_collateral(), "2025-06-19T10:20:00Z",
                     "tdx_collateral.qe_identity is valid from 2025-06-19T10:32:27Z")
        self.refused(DCAP_QUOTE, dcap_collateral(), "2025-06-01T00:00:00Z",
                     "tdx_collateral.tcb_info is valid from")

    def test_changed_byte_breaks_the_signature(self):
        for item, old, new in (("tcb_info", '"tcbEvaluationDataNumber":17',
                                '"tcbEvaluationDataNumber":18'),
                               ("qe_identity", '"isvprodid":2', '"isvprodid":3')):
            with self.subTest(item):
                c = dcap_collateral()
                self.assertIn(old, c[item])
                c[item] = c[item].replace(old, new)
                self.refused(DCAP_QUOTE, c, DCAP_AT, f"tdx_collateral.{item}: the signature "
                             "does not verify")
        c = dcap_collateral()
        c["tcb_info_signature"] = c["tcb_info_signature"][:-1] + (
            "0" if c["tcb_info_signature"][-1] != "0" else "1")
        self.refused(DCAP_QUOTE, c, DCAP_AT, "tdx_collateral.tcb_info: the signature")

    def test_issuer_chain_not_to_the_root(self):
        c = dcap_collateral()
        # Intel QVL's test root: named "Intel SGX Root CA" too, with another key.
        qvl_root = REALDATA / "sgx" / "intelqvl_trustedRootCaCert.pem"
        c["tcb_info_issuer_chain"] = qvl_root.read_text()
        self.refused(DCAP_QUOTE, c, DCAP_AT, "tdx_collateral.tcb_info: the signature does not "
                     "verify")
        # Intel's chain but another signer first: the PCK CRL issuer signed nothing here.
        c = dcap_collateral()
        c["qe_identity_issuer_chain"] = c["pck_crl_issuer_chain"]
        self.refused(DCAP_QUOTE, c, DCAP_AT, "tdx_collateral.qe_identity: the signature")

    def test_pck_crl_of_another_issuer(self):
        c = dcap_collateral()
        c["pck_crl_issuer_chain"] = c["tcb_info_issuer_chain"]
        self.refused(DCAP_QUOTE, c, DCAP_AT, "pck_crl_issuer_chain: its first certificate "
                     "did not issue the quote's PCK certificate")
        c = dcap_collateral()
        c["pck_crl"], c["root_ca_crl"] = c["root_ca_crl"], c["pck_crl"]
        self.refused(DCAP_QUOTE, c, DCAP_AT, "tdx_collateral.root_ca_crl: no CRL issued by "
                     "\"Intel SGX Root CA\"")

    def test_crl_as_pem_and_upper_case_hex(self):
        import base64
        c = dcap_collateral()
        der = bytes.fromhex(c["root_ca_crl"])
        c["root_ca_crl"] = ("-----BEGIN X509 CRL-----\n" + base64.encodebytes(der).decode()
                            + "-----END X509 CRL-----\n")
        c["pck_crl"] = c["pck_crl"].upper()
        self.assertEqual(self.verify(DCAP_QUOTE, c, DCAP_AT)["tcb_status"], "UpToDate")
        c["pck_crl"] = c["pck_crl"][:-2]
        self.refused(DCAP_QUOTE, c, DCAP_AT, "tdx_collateral.pck_crl is not a CRL")

    def test_collateral_for_another_fmspc(self):
        c = dcap_collateral()
        other = gotdx_collateral("gotdx_tcbInfo.json", "gotdx_qeIdentity.json")
        c["tcb_info"], c["tcb_info_signature"] = other["tcb_info"], ""
        # Inside the dcap window the 2023 TCB info is expired (and in 2023 the dcap quote's PCK
        # certificate is not yet valid); so the FMSPC check uses go-tdx-guest's collateral for
        # 50806f000000, current at T4_AT, against edgeless's quote of 00806f050000.
        self.refused(DCAP_QUOTE, c, DCAP_AT, "tdx_collateral.tcb_info is valid from")
        self.refused(TDX / "gotdxqpl_quote.bin", other, T4_AT, "tdx_collateral.tcb_info: "
                     "fmspc 50806f000000 is not the PCK certificate's 00806f050000")

    def test_status_not_accepted(self):
        msg = self.refused(DCAP_QUOTE, dcap_collateral(), DCAP_AT,
                           "the TCB status is UpToDate", "2024-03-13T00:00:00Z",
                           "tdx_tcb_status", tdx_tcb_status=["OutOfDate", "SWHardeningNeeded"])
        self.assertIn("advisories: none", msg)
        claims = self.verify(DCAP_QUOTE, dcap_collateral(), DCAP_AT,
                             tdx_tcb_status=ALL_BUT_REVOKED)
        self.assertEqual(claims["tcb_status"], "UpToDate")

    def test_needs_the_root(self):
        with self.assertRaises(ebcc.EbccError) as e:
            ebcc.report_verify(self.ctx, "tsm", DCAP_QUOTE.read_bytes(), {
                "verification_time": DCAP_AT, "backend_options": {"tsm": {
                    "tdx_collateral": dcap_collateral(), "allow_unverified_signature": True}}})
        self.assertIn("needs backend_options.tsm.tdx_root_ca", e.exception.message)


class PolicyTest(CollateralCase):
    def test_unknown_and_missing_keys(self):
        c = dcap_collateral()
        c["tcb_infos"] = c["tcb_info"]
        self.refused(DCAP_QUOTE, c, DCAP_AT, "tdx_collateral: unknown key \"tcb_infos\"")
        for key in dcap_collateral():
            with self.subTest(key):
                c = dcap_collateral()
                del c[key]
                self.refused(DCAP_QUOTE, c, DCAP_AT, f"tdx_collateral.{key} is missing")
        c = dcap_collateral()
        c["pck_crl"] = 5
        self.refused(DCAP_QUOTE, c, DCAP_AT, "tdx_collateral.pck_crl must be a string")
        self.refused(DCAP_QUOTE, "x", DCAP_AT, "tdx_collateral must be an object")
        c = dcap_collateral()
        c["pck_crl"] = "0" * (512 * 1024 + 2)
        self.refused(DCAP_QUOTE, c, DCAP_AT, "at most 524288")

    def test_tcb_status_values(self):
        self.refused(DCAP_QUOTE, dcap_collateral(), DCAP_AT, "tdx_tcb_status[1] is \"Revoked\"",
                     "never", tdx_tcb_status=["UpToDate", "Revoked"])
        self.refused(DCAP_QUOTE, dcap_collateral(), DCAP_AT, "tdx_tcb_status[0] is \"uptodate\"",
                     tdx_tcb_status=["uptodate"])
        self.refused(DCAP_QUOTE, dcap_collateral(), DCAP_AT, "non-empty array",
                     tdx_tcb_status=[])
        self.refused(DCAP_QUOTE, dcap_collateral(), DCAP_AT, "non-empty array",
                     tdx_tcb_status="UpToDate")

    def test_documents_are_read_strictly(self):
        cases = [
            ('"id":"TDX","version":3', '"id":"TDX","version":2', "version 2"),
            ('"id":"TDX"', '"id":"SGX"', "id \"SGX\""),
        ]
        for old, new, fragment in cases:
            with self.subTest(new):
                c = dcap_collateral()
                self.assertIn(old, c["tcb_info"])
                c["tcb_info"] = c["tcb_info"].replace(old, new)
                # The signature fails first: the text is Intel's only as Intel signed it.
                self.refused(DCAP_QUOTE, c, DCAP_AT, "signature does not verify")
        body = json.loads((TDX / "gotdx_tcbInfo.json").read_text())
        c = gotdx_collateral("gotdx_tcbInfo.json", "gotdx_qeIdentity.json")
        c["tcb_info"] = json.dumps(dict(body, extra=1))
        self.refused(T4_QUOTE, c, T4_AT, "a PCS response body has the keys tcbInfo and "
                     "signature only", allow_debug=True)
        c["tcb_info"] = (TDX / "gotdx_tcbInfo.json").read_text()
        c["tcb_info_signature"] = "00" * 64
        self.refused(T4_QUOTE, c, T4_AT, "not the signature of the PCS response body",
                     allow_debug=True)


@unittest.skipUnless(os.environ.get("EBCC_RUNTIME"), "ebcc-runtime not built")
class VerifyReportCollateralTest(unittest.TestCase):
    def run_runtime(self, policy, *args):
        with tempfile.NamedTemporaryFile("w", suffix=".json") as f:
            json.dump(policy, f)
            f.flush()
            return subprocess.run([os.environ["EBCC_RUNTIME"], "verify-report", "--policy",
                                   f.name] + [str(a) for a in args],
                                  capture_output=True, text=True, timeout=60)

    def setUp(self):
        self.policy = {"backend_options": {"tsm": {
            "tdx_root_ca": (TDX / "intel_sgx_root_ca.pem").read_text()}}}
        self.collateral = TDX / "dcapqvl_tdx_quote_collateral.json"

    def test_collateral_file_as_published(self):
        proc = self.run_runtime(self.policy, "--at", DCAP_AT, "--collateral", self.collateral,
                                DCAP_QUOTE)
        self.assertEqual(proc.returncode, 0, proc.stderr)
        self.assertEqual(json.loads(proc.stdout)["tcb_status"], "UpToDate")
        proc = self.run_runtime(self.policy, "--at", "2025-08-01T00:00:00Z", "--collateral",
                                self.collateral, DCAP_QUOTE)
        self.assertEqual(proc.returncode, 1)
        self.assertIn("tdx_collateral.tcb_info is valid from", proc.stderr)

    def test_refusals(self):
        policy = copy.deepcopy(self.policy)
        policy["backend_options"]["tsm"]["tdx_collateral"] = dcap_collateral()
        proc = self.run_runtime(policy, "--at", DCAP_AT, "--collateral", self.collateral,
                                DCAP_QUOTE)
        self.assertEqual(proc.returncode, 1)
        self.assertIn("tdx_collateral and --collateral", proc.stderr)
        proc = self.run_runtime(self.policy, "--collateral", self.collateral, "--collateral",
                                self.collateral, DCAP_QUOTE)
        self.assertNotEqual(proc.returncode, 0)
        self.assertIn("more than once", proc.stderr)
        with tempfile.NamedTemporaryFile("w", suffix=".json") as bad:
            bad.write("[1]")
            bad.flush()
            proc = self.run_runtime(self.policy, "--collateral", bad.name, DCAP_QUOTE)
        self.assertEqual(proc.returncode, 1)
        self.assertIn("--collateral", proc.stderr)
        self.assertIn("is not one JSON object", proc.stderr)


if __name__ == "__main__":
    unittest.main()
