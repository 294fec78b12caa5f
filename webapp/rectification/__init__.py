"""文书: rectification orders, their numbering, printable notices and PDFs, QR codes and public verification."""
