// Signs a PDF with node-signpdf, as a Node.js back-end would: a signature
// placeholder added by @signpdf/placeholder-plain, then a CMS made by
// node-forge through @signpdf/signer-p12.
//
//   node sign.js SIGNER.p12 IN.pdf OUT.pdf [REASON]
//
// The PKCS#12 password is read from the P12_PASSWORD environment variable.
'use strict';

const fs = require('fs');
const { SignPdf } = require('@signpdf/signpdf');
const { P12Signer } = require('@signpdf/signer-p12');
const { plainAddPlaceholder } = require('@signpdf/placeholder-plain');

async function main(argv) {
  if (argv.length < 3) {
    throw new Error('usage: node sign.js SIGNER.p12 IN.pdf OUT.pdf [REASON]');
  }
  const [p12Path, inPath, outPath, reason = 'Signed with node-signpdf'] = argv;
  const withPlaceholder = plainAddPlaceholder({
    pdfBuffer: fs.readFileSync(inPath),
    reason,
    contactInfo: 'lucia.bianchi@example.org',
    name: 'Lucia Bianchi',
    location: 'Milano',
  });
  const signer = new P12Signer(fs.readFileSync(p12Path), { passphrase: process.env.P12_PASSWORD || '' });
  const signed = await new SignPdf().sign(withPlaceholder, signer);
  fs.writeFileSync(outPath, signed);
}

main(process.argv.slice(2)).catch((err) => {
  console.error(`node-signpdf: ${err && err.stack ? err.stack : err}`);
  process.exit(1);
});
