namespace Masking
