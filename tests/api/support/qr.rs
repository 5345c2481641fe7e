//! Reading QR codes the registry renders.

/// Reads the QR code in a PNG with rqrr.
pub fn decode_png(bytes: &[u8]) -> String {
    let decoder = png::Decoder::new(std::io::Cursor::new(bytes));
    let mut reader = decoder.read_info().unwrap();
    let mut buf = vec![0; reader.output_buffer_size().unwrap()];
    let info = reader.next_frame(&mut buf).unwrap();
    assert!(info.width >= 300);
    let w = info.width as usize;
    let mut image =
        rqrr::PreparedImage::prepare_from_greyscale(w, info.height as usize, |x, y| buf[y * w + x]);
    let grids = image.detect_grids();
    assert_eq!(grids.len(), 1);
    grids[0].decode().unwrap().1
}
