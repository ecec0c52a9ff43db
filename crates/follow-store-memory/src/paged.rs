//! An append-only array in fixed pages: it never reallocates.
//!
//! A `Vec` that grows by doubling copies itself into a new buffer each time
//! and frees the old one. At a million edges the store's big arrays (slots,
//! list blocks, ids) are megabytes; glibc raises its mmap threshold as
//! transient buffers come and go, so such arrays end up on the heap, and
//! every doubling leaves a hole there that stays resident. Pages of
//! [`PAGE_BYTES`] are allocated once and kept: they fill the holes others
//! leave instead of making new ones, and the spare room is at most one page.
//! The page table itself is small (a pointer a page) and stays in cache.

/// About how many bytes a page holds.
pub(crate) const PAGE_BYTES: usize = 64 * 1024;

/// Items in pages of [`Paged::PER_PAGE`].
#[derive(Debug)]
pub(crate) struct Paged<T> {
    pages: Vec<Vec<T>>,
    len: usize,
}

impl<T> Default for Paged<T> {
    fn default() -> Self {
        Paged {
            pages: Vec::new(),
            len: 0,
        }
    }
}

impl<T> Paged<T> {
    /// Items a page holds.
    pub(crate) const PER_PAGE: usize = {
        let size = std::mem::size_of::<T>();
        if size == 0 || size >= PAGE_BYTES {
            1
        } else {
            PAGE_BYTES / size
        }
    };

    pub(crate) fn len(&self) -> usize {
        self.len
    }

    pub(crate) fn get(&self, index: usize) -> Option<&T> {
        self.pages
            .get(index / Self::PER_PAGE)?
            .get(index % Self::PER_PAGE)
    }

    pub(crate) fn get_mut(&mut self, index: usize) -> Option<&mut T> {
        self.pages
            .get_mut(index / Self::PER_PAGE)?
            .get_mut(index % Self::PER_PAGE)
    }

    /// Appends `item`; answers its index.
    pub(crate) fn push(&mut self, item: T) -> usize {
        let index = self.len;
        match self.pages.last_mut() {
            Some(page) if page.len() < Self::PER_PAGE => page.push(item),
            _ => {
                let mut page = Vec::with_capacity(Self::PER_PAGE);
                page.push(item);
                self.pages.push(page);
            }
        }
        self.len += 1;
        index
    }

    /// Bytes allocated for items (page table excluded).
    #[cfg(test)]
    pub(crate) fn allocated(&self) -> usize {
        self.pages.len() * Self::PER_PAGE * std::mem::size_of::<T>()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn items_stay_put_across_pages() {
        let mut paged = Paged::<u64>::default();
        let n = Paged::<u64>::PER_PAGE * 3 + 5;
        for i in 0..n {
            assert_eq!(paged.push(i as u64 * 3), i);
        }
        assert_eq!(paged.len(), n);
        assert_eq!(paged.get(n - 1), Some(&((n as u64 - 1) * 3)));
        assert_eq!(paged.get(n), None);
        if let Some(item) = paged.get_mut(Paged::<u64>::PER_PAGE) {
            *item = 7;
        }
        assert_eq!(paged.get(Paged::<u64>::PER_PAGE), Some(&7));
        assert_eq!(paged.allocated(), 4 * PAGE_BYTES);
    }
}
