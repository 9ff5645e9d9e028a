// A browser without a PDF viewer (most phones) shows the link inside a course's <object>
// instead of the PDF: the box then takes only the room the link needs.
if (navigator.pdfViewerEnabled === false) {
  document.documentElement.classList.add("no-pdf-viewer");
}
